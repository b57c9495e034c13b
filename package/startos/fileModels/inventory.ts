import { FileHelper } from '@start9labs/start-sdk'
import { sdk } from '../sdk'
import { inventorySubpath } from '../utils'

/** The inventory `sparkdeck serve` runs with; only the Configure cluster action writes it, after SparkDeck's check. */
export const inventoryFile = FileHelper.string({ base: sdk.volumes.main, subpath: inventorySubpath })
