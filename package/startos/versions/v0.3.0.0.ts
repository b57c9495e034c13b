import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_3_0_0 = VersionInfo.of({
  version: '0.3.0:0',
  releaseNotes:
    'OpenAI-compatible LLM gateway with streaming, admission control (503 + Retry-After), swap awareness and API keys with scopes.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
