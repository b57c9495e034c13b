import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_2_1_0 = VersionInfo.of({
  version: '0.2.1:0',
  releaseNotes: 'Node cards show GPU utilisation, memory, temperature, power and running containers.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
