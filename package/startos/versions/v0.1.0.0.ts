import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_1_0_0 = VersionInfo.of({
  version: '0.1.0:0',
  releaseNotes:
    'First release: inventory, health monitor with a connectivity log that records outages of one second and more, live dashboard, demo mode.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
