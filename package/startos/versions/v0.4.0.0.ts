import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_4_0_0 = VersionInfo.of({
  version: '0.4.0:0',
  releaseNotes:
    'Redaction gateway: /scrub, /rehydrate and an encrypted placeholder vault; sparkdeck scrub for local use.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
