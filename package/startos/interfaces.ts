import { sdk } from './sdk'
import { port } from './utils'

// One HTTP port serves both: the dashboard for the owner's browser and the API for their apps.
export const setInterfaces = sdk.setupInterfaces(async ({ effects }) => {
  const host = sdk.MultiHost.of(effects, 'main')
  const origin = await host.bindPort(port, { protocol: 'http' })

  const ui = sdk.createInterface(effects, {
    name: 'Dashboard',
    id: 'ui',
    description: 'The live dashboard: nodes, services, model swaps, maintenance actions and logs',
    type: 'ui',
    masked: false,
    schemeOverride: null,
    username: null,
    path: '',
    query: {},
  })

  const api = sdk.createInterface(effects, {
    name: 'API',
    id: 'api',
    description:
      'For your apps: the OpenAI-compatible gateway under /v1 (chat, audio, embeddings) and the control API under /api',
    type: 'api',
    masked: false,
    schemeOverride: null,
    username: null,
    path: '',
    query: {},
  })

  return [await origin.export([ui, api])]
})
