import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_4_3_0 = VersionInfo.of({
  version: '0.4.3:0',
  releaseNotes:
    'Redaction is about fourteen times faster (hand-written scanners instead of regular expressions); the gateway spends less CPU per request.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
