import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_7_1_0 = VersionInfo.of({
  version: '0.7.1:0',
  releaseNotes:
    'A client that disconnects frees its queue place or slot at once and its upstream call is cancelled; calls in flight to a service the health monitor has seen down for 5 s end with 503. Scrub sessions made without API keys belong to the client address. Audio chunk calls retry a broken ASR call.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
