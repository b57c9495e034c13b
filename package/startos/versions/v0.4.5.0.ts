import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_4_5_0 = VersionInfo.of({
  version: '0.4.5:0',
  releaseNotes:
    'A leaner LLM gateway: about a quarter less CPU per request, whole answers sent in one write.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
