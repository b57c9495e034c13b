import { FileHelper, z } from '@start9labs/start-sdk'
import { sdk } from '../sdk'

const maintenanceAction = z.object({
  id: z.string(),
  name: z.string(),
  node: z.string(),
  description: z.string(),
})

const shape = z.object({
  /** The inventory's maintenance actions as its last check listed them: what the actions here tell the owner. */
  maintenanceActions: z.array(maintenanceAction).optional(),
  /**
   * The admin key this package's actions send to SparkDeck's API, made only once the owner has made a key of
   * their own (before that the API is open and needs none). Never shown; revoking it makes the next action make a
   * new one.
   */
  actionsKey: z.object({ id: z.string(), key: z.string() }).optional(),
})

export const storeSubpath = 'startos/store.json'

export const storeJson = FileHelper.json({ base: sdk.volumes.main, subpath: storeSubpath }, shape)
