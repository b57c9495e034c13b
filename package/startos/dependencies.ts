import { sdk } from './sdk'

// SparkDeck talks to the Sparks on the LAN, not to other StartOS services.
export const setDependencies = sdk.setupDependencies(async () => ({}))
