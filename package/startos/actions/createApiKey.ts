import { sdk } from '../sdk'
import { dataDir, dataMounts, serviceUser, sparkdeck, text } from '../utils'
import { parseCreatedKey } from '../cli'

const { InputSpec, Value } = sdk

const inputSpec = InputSpec.of({
  name: Value.text({
    name: 'For',
    description: "What the key is for, e.g. the app's name. It appears in SparkDeck's key list.",
    required: true,
    default: null,
    placeholder: 'notes-app',
    patterns: [
      {
        regex: '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$',
        description: "Up to 64 letters, digits, spaces, '.', '_' or '-'",
      },
    ],
  }),
  scopes: Value.multiselect({
    name: 'Scopes',
    description: 'What the key may do. admin also passes every other scope.',
    default: ['chat'],
    values: {
      chat: 'chat: the OpenAI-compatible chat and completions under /v1',
      audio: 'audio: transcription, diarization and speech',
      embeddings: 'embeddings: embeddings and rerank',
      search: 'search: hybrid search',
      redaction: 'redaction: /scrub and /rehydrate',
      admin: 'admin: swaps, maintenance actions and service logs',
    },
    minLength: 1,
  }),
})

export const createApiKey = sdk.Action.withInput(
  'create-api-key',
  async () => ({
    name: 'Create API key',
    description: 'Makes a key for one of your apps. The key is shown once, here; SparkDeck keeps only its hash.',
    warning:
      'While no key exists, the API is open to your network. Once this key exists, apps need a key for /v1, and changes to the cluster (swaps, maintenance actions) and service logs need a key with the admin scope. The dashboard stays readable without one.',
    allowedStatuses: 'any',
    group: 'Access',
    visibility: 'enabled',
  }),
  inputSpec,
  async () => null,
  async ({ effects, input }) => {
    const created = await sdk.SubContainer.withTemp(
      effects,
      { imageId: 'sparkdeck' },
      dataMounts,
      'create-api-key',
      async (sub) => {
        await sub.execFail(['chown', `${serviceUser}:${serviceUser}`, dataDir], { user: 'root' })
        // Name and scopes are single arguments of SparkDeck's own CLI: no shell sees them.
        const result = await sub.execFail(
          [sparkdeck, 'keys', 'create', '--name', input.name, '--scopes', input.scopes.join(','), '--data', dataDir],
          { user: serviceUser },
        )
        return parseCreatedKey(text(result.stdout))
      },
    )
    return {
      version: '1' as const,
      title: 'API key created',
      message: `Copy the key now: it is not shown again. Apps send it as "Authorization: Bearer <key>". Its id is ${created.id}.`,
      result: {
        type: 'single' as const,
        value: created.key,
        masked: true,
        copyable: true,
        qr: false,
      },
    }
  },
)
