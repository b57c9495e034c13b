import * as fs from 'node:fs/promises'
import { configureCluster } from '../actions/configureCluster'
import { sshKey } from '../actions/sshKey'
import { inventoryFile } from '../fileModels/inventory'
import { sdk } from '../sdk'
import { sshKeyPath, dataDir } from '../utils'

// First-run setup as StartOS tasks: without an inventory SparkDeck cannot start (critical); without an SSH key it
// cannot reach a Spark (important).
export const setupTasks = sdk.setupOnInit(async (effects) => {
  const inventory = await inventoryFile.read().const(effects)
  if (!inventory) {
    await sdk.action.createOwnTask(effects, configureCluster, 'critical', {
      reason: 'Tell SparkDeck where your Sparks are (their addresses and the SSH user) before it starts.',
    })
  }
  const keyInVolume = sdk.volumes.main.subpath(sshKeyPath.slice(dataDir.length))
  const hasKey = await fs.access(keyInVolume).then(
    () => true,
    () => false,
  )
  if (!hasKey) {
    await sdk.action.createOwnTask(effects, sshKey, 'important', {
      reason: "Make SparkDeck's SSH key and add it to each Spark, so SparkDeck can reach them.",
    })
  }
})
