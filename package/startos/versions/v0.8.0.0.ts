import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_8_0_0 = VersionInfo.of({
  version: '0.8.0:0',
  releaseNotes:
    'Per-app activity: every API request is counted to its API key (or client address), per minute, in the store for 30 days, with a live request log and an app label in /metrics; the dashboard gains a section bar and an Activity section. Services without limits get caps that fit their kind: an LLM takes as many requests as vLLM batches (max_num_seqs, else 256).',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
