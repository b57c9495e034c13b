import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_6_0_0 = VersionInfo.of({
  version: '0.6.0:0',
  releaseNotes:
    'Speech: transcription and text to speech through SparkDeck (audio stays on the LAN). Redaction finds names from many countries and by context, and gives scrubbed text back exactly. Ships as a StartOS package with setup actions. One upstream core under every outbound call.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
