import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_5_1_0 = VersionInfo.of({
  version: '0.5.1:0',
  releaseNotes:
    'Fixes found in a review of swaps, the gateway and redaction; the gateway benchmark judges each target where it can be met.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
