import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_6_0_0 = VersionInfo.of({
  version: '0.6.0:0',
  releaseNotes:
    'One upstream core under every outbound call: admission leases that are always given back, retries only when a request never reached a service, one event-stream reader.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
