import { sdk } from '../sdk'
import { configureCluster } from './configureCluster'
import { createApiKey } from './createApiKey'
import { reapplyPatches } from './reapplyPatches'
import { sshKey } from './sshKey'

export const actions = sdk.Actions.of()
  .addAction(configureCluster)
  .addAction(sshKey)
  .addAction(createApiKey)
  .addAction(reapplyPatches)
