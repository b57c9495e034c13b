import * as fs from 'node:fs/promises'
import { fillInventoryTemplate, ipv4Pattern, parseInventoryCheck, userPattern } from '../cli'
import { inventoryFile } from '../fileModels/inventory'
import { storeJson } from '../fileModels/store.json'
import { sdk } from '../sdk'
import {
  candidatePath,
  candidateSubpath,
  dataMounts,
  exampleInventory,
  inventorySubpath,
  serviceUser,
  sparkdeck,
  text,
} from '../utils'

const { InputSpec, Value, Variants } = sdk

const addressField = (name: string, description: string) =>
  Value.text({
    name,
    description,
    required: true,
    default: null,
    placeholder: '192.0.2.10',
    patterns: [{ regex: ipv4Pattern, description: 'An IPv4 address like 192.0.2.10 (no host names, no .local names)' }],
  })

const inputSpec = InputSpec.of({
  cluster: Value.union({
    name: 'Cluster',
    description:
      'Either the standard two-Spark layout (fill in two addresses and the SSH user), or a whole inventory file of your own.',
    default: 'two-sparks',
    variants: Variants.of({
      'two-sparks': {
        name: 'Two Sparks (the standard layout)',
        spec: InputSpec.of({
          llmNodeIP: addressField('spark-1 address', 'The IPv4 address of the Spark that runs the language model (vLLM).'),
          speechNodeIP: addressField(
            'spark-2 address',
            'The IPv4 address of the Spark that runs speech, text-to-speech, embeddings and Qdrant.',
          ),
          sshUser: Value.text({
            name: 'SSH user',
            description:
              'The account SparkDeck logs in as on both Sparks: the one whose ~/.ssh/authorized_keys gets the key from the "SSH key" action.',
            required: true,
            default: null,
            patterns: [
              { regex: userPattern, description: "Letters, digits, '.', '_' and '-', starting with a letter or '_'" },
            ],
          }),
        }),
      },
      file: {
        name: 'My own inventory file',
        spec: InputSpec.of({
          inventory: Value.textarea({
            name: 'Inventory (YAML)',
            description:
              'A whole SparkDeck inventory: nodes, services, model recipes and maintenance actions (see the inventory reference in SparkDeck\'s docs/OPERATIONS.md).',
            required: true,
            default: null,
            minRows: 12,
            maxRows: 40,
          }),
        }),
      },
    }),
  }),
})

export const configureCluster = sdk.Action.withInput(
  'configure-cluster',
  async () => ({
    name: 'Configure cluster',
    description:
      'Tell SparkDeck where your Sparks are. SparkDeck checks the inventory before it is saved and lists every problem it finds; a saved inventory restarts SparkDeck with it.',
    warning: null,
    allowedStatuses: 'any',
    group: 'Setup',
    visibility: 'enabled',
  }),
  inputSpec,
  // The current inventory, to edit in place.
  async () => {
    const current = await inventoryFile.read().once()
    return current ? { cluster: { selection: 'file' as const, value: { inventory: current } } } : null
  },
  async ({ effects, input }) => {
    const check = await sdk.SubContainer.withTemp(
      effects,
      { imageId: 'sparkdeck' },
      dataMounts,
      'configure-cluster',
      async (sub) => {
        const yaml =
          input.cluster.selection === 'two-sparks'
            ? fillInventoryTemplate(text((await sub.execFail(['cat', exampleInventory])).stdout), input.cluster.value)
            : input.cluster.value.inventory
        // The file goes to SparkDeck's own check as a file, never through a shell.
        await sdk.volumes.main.writeFile(candidateSubpath, yaml)
        const result = await sub.exec([sparkdeck, 'inventory', 'check', '--json', candidatePath], { user: serviceUser })
        return parseInventoryCheck(text(result.stdout))
      },
    )
    const candidate = sdk.volumes.main.subpath(candidateSubpath)
    if (!check.valid) {
      await fs.rm(candidate, { force: true })
      // Thrown, so StartOS shows the problems and the setup task stays open.
      const count = check.problems.length
      throw new Error(
        `SparkDeck refused this inventory (${count} problem${count === 1 ? '' : 's'}); nothing was saved:\n` +
          check.problems.map((problem) => `- ${problem.trim()}`).join('\n'),
      )
    }
    await fs.rename(candidate, sdk.volumes.main.subpath(inventorySubpath))
    await storeJson.merge(effects, { maintenanceActions: check.actions })
    const nodes = check.nodes.map((node) => `${node.id} (${node.host})`).join(', ')
    return {
      version: '1' as const,
      title: 'Cluster saved',
      message: `SparkDeck checked and saved the inventory: ${nodes}. It starts (or restarts) with it now. Next, run "SSH key" if you have not yet added SparkDeck's key to each Spark.`,
      result: null,
    }
  },
)
