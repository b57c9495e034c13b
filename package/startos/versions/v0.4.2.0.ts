import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_4_2_0 = VersionInfo.of({
  version: '0.4.2:0',
  releaseNotes:
    'A busy LLM is no longer taken for a dead one; detector accuracy and speed fixes.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
