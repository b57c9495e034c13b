import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_5_1_0 = VersionInfo.of({
  version: '0.5.1:0',
  releaseNotes:
    'Security fix: API keys could be bypassed by writing a path differently. Fixes from a review of stopping, swaps, the gateway and redaction.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
