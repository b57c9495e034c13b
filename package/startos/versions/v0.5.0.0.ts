import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_5_0_0 = VersionInfo.of({
  version: '0.5.0:0',
  releaseNotes:
    'Maintenance actions and live service logs on the dashboard; /openapi.json describes the whole API.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
