import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_9_0_0 = VersionInfo.of({
  version: '0.9.0:0',
  releaseNotes:
    'Capacity sweeps: measure how many requests each GPU service takes (throughput and p95 at 1, 2, 3 ... in flight), find the knee, and apply the proposed caps live and to the inventory after a second confirmation; the dashboard gains a Capacity section with the sweep chart compared with the previous one.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
