import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_4_4_0 = VersionInfo.of({
  version: '0.4.4:0',
  releaseNotes:
    'Admission groups: services that share a GPU can share a cap (admission_groups in the inventory). Faster redaction.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
