import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_3_1_0 = VersionInfo.of({
  version: '0.3.1:0',
  releaseNotes:
    'The demo start-up load is a swap in the history; faster ready detection; a rolled-back swap keeps its own progress.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
