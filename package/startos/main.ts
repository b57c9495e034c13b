import { inventoryFile } from './fileModels/inventory'
import { sdk } from './sdk'
import { dataDir, dataMounts, inventoryPath, port, serverURL, serviceUser, sparkdeck } from './utils'

export const main = sdk.setupMain(async ({ effects }) => {
  // Read reactively: when Configure cluster saves a new inventory, StartOS restarts SparkDeck with it.
  const inventory = await inventoryFile.read().const(effects)
  if (!inventory) {
    throw new Error('SparkDeck has no inventory yet: run the "Configure cluster" action first.')
  }

  const subcontainer = sdk.SubContainer.of(effects, { imageId: 'sparkdeck' }, dataMounts, 'sparkdeck')

  return sdk.Daemons.of(effects)
    .addOneshot('data-owner', {
      subcontainer,
      // The volume starts out owned by root, and a restore writes files as root: SparkDeck runs as its own user.
      exec: { command: ['chown', '-R', `${serviceUser}:${serviceUser}`, dataDir], user: 'root' },
      requires: [],
    })
    .addDaemon('primary', {
      subcontainer,
      exec: {
        command: [sparkdeck, 'serve', '--inventory', inventoryPath, '--data', dataDir, '--host', '0.0.0.0', '--port', String(port)],
        user: serviceUser,
      },
      ready: {
        display: 'SparkDeck',
        // /readyz answers 200 once the store is open and the inventory is loaded.
        fn: async () => {
          try {
            const response = await fetch(`${serverURL}/readyz`, { signal: AbortSignal.timeout(2_000) })
            if (response.status === 200) {
              return { result: 'success', message: 'The dashboard and API are ready' }
            }
            return { result: 'failure', message: `SparkDeck's /readyz answered ${response.status}` }
          } catch {
            return { result: 'failure', message: 'SparkDeck does not answer yet' }
          }
        },
        gracePeriod: 30_000,
      },
      requires: ['data-owner'],
    })
})
