import { setupManifest } from '@start9labs/start-sdk'

// The SDK's make rules read the package id with awk from the one line here that has an id key, between single
// quotes: keep it single-quoted, and no other line of this file may contain that key (a test checks both).
export const manifest = setupManifest({
  id: 'sparkdeck',
  title: 'SparkDeck',
  license: 'MIT',
  packageRepo: 'https://github.com/<owner>/sparkdeck',
  upstreamRepo: 'https://github.com/<owner>/sparkdeck',
  marketingUrl: 'https://github.com/<owner>/sparkdeck',
  donationUrl: null,
  description: {
    short: 'Dashboard and one API for your own NVIDIA DGX Spark cluster',
    long: 'SparkDeck watches the DGX Spark boxes on your network, swaps the loaded language model with one click (and rolls back when a model fails), and gives your apps one OpenAI-compatible API for chat, speech, embeddings and search. Audio and transcripts never leave your network.',
  },
  volumes: ['main'],
  images: {
    sparkdeck: {
      // Built from the repository's Dockerfile (context: the repository root, one folder up).
      source: { dockerBuild: { workdir: '..', dockerfile: '../Dockerfile' } },
      arch: ['x86_64', 'aarch64'],
    },
  },
  dependencies: {},
})
