import { sdk } from './sdk'

// Everything SparkDeck keeps is in the volume: the inventory, the SQLite store, the vault key and the SSH key.
// StartOS stops the service while it backs up, so the store is copied at rest.
export const { createBackup, restoreInit } = sdk.setupBackups(async () => sdk.Backups.ofVolumes('main'))
