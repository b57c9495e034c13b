import { storeJson } from '../fileModels/store.json'
import { sdk } from '../sdk'
import { dataMounts, serverURL, serviceUser, sparkdeck, text } from '../utils'
import { adminKeyEnv } from './adminKey'

/** The inventory's maintenance action this runs: give an action this id in the inventory to enable it. */
export const patchActionId = 'reapply-patches'

export const reapplyPatches = sdk.Action.withoutInput(
  'reapply-patches',
  // Re-evaluated whenever Configure cluster saves an inventory, so the confirmation quotes the action's own words.
  async ({ effects }) => {
    const actions = await storeJson.read((store) => store.maintenanceActions ?? []).const(effects)
    const action = actions?.find((entry) => entry.id === patchActionId)
    return {
      name: 'Re-apply service patches',
      description: `Runs your inventory's "${patchActionId}" maintenance action, the one you use after a Spark's containers were updated or recreated, and shows what it printed.`,
      warning: action
        ? `This runs "${action.name}" on ${action.node} now: ${action.description} SparkDeck runs the command exactly as your inventory writes it.`
        : null,
      allowedStatuses: 'only-running',
      group: 'Maintenance',
      visibility: action
        ? 'enabled'
        : { disabled: `Your inventory has no maintenance action with id "${patchActionId}". Add one (see the maintenance docs) with Configure cluster.` },
    }
  },
  async ({ effects }) => {
    const run = await sdk.SubContainer.withTemp(effects, { imageId: 'sparkdeck' }, dataMounts, 'reapply-patches', async (sub) => {
      const env = await adminKeyEnv(effects, sub)
      // SparkDeck's own CLI asks the running SparkDeck to run the action (confirmed with --yes: the owner just
      // confirmed the warning above) and waits for it to end, whatever its timeout.
      const result = await sub.exec(
        [sparkdeck, 'action', patchActionId, '--yes', '--server', serverURL],
        { user: serviceUser, env },
        null,
      )
      return { ok: result.exitCode === 0, output: (text(result.stdout) + text(result.stderr)).trim() }
    })
    const output = run.output.length > 8_000 ? `…${run.output.slice(-8_000)}` : run.output
    if (!run.ok) throw new Error(`Re-applying the service patches failed:\n${output}`)
    return {
      version: '1' as const,
      title: 'Service patches re-applied',
      message: 'The maintenance action ended successfully. Its output:',
      result: { type: 'single' as const, value: output, masked: false, copyable: true, qr: false },
    }
  },
)
