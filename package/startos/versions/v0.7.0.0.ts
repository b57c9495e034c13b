import { VersionInfo, IMPOSSIBLE } from '@start9labs/start-sdk'

// SparkDeck version : package revision. Must equal SparkDeckVersion in Sources/SparkDeck/App/Version.swift
// (a test checks it).
export const v_0_7_0_0 = VersionInfo.of({
  version: '0.7.0:0',
  releaseNotes:
    'Diarization of long and dual-channel recordings as audio jobs that survive restarts. Embeddings, rerank and hybrid search over Qdrant. A speech and a search panel on the dashboard. Security fixes: shell quoting in templates, admin-only action output, DNS-rebinding checks, redaction limits and session owners.',
  migrations: {
    up: async ({ effects }) => {},
    down: IMPOSSIBLE,
  },
})
