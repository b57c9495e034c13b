import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_4_1_0 = VersionInfo.of({
  version: '0.4.1:0',
  releaseNotes:
    'Private chat proxy: only scrubbed text reaches the external model; answers rehydrated, streamed or not.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
