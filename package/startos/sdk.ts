import { StartSdk } from '@start9labs/start-sdk'
import { manifest } from './manifest'

// The SDK bound to SparkDeck's manifest; every other file uses this one.
export const sdk = StartSdk.of().withManifest(manifest).build(true)
