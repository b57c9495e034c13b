import { sdk } from './sdk'

// Where things are inside the image and the volume (the Dockerfile and scripts/check-image use the same paths).
export const port = 9999
export const sparkdeck = '/opt/sparkdeck/sparkdeck'
export const exampleInventory = '/opt/sparkdeck/share/inventory.example.yaml'
export const dataDir = '/data'
/** The inventory `serve --inventory` reads, as the service sees it and as a path in the volume. */
export const inventoryPath = `${dataDir}/inventory.yaml`
export const inventorySubpath = 'inventory.yaml'
/** A proposed inventory, checked by `sparkdeck inventory check` before it replaces the current one. */
export const candidateSubpath = 'inventory.candidate.yaml'
export const candidatePath = `${dataDir}/${candidateSubpath}`
/** `serve` uses `<data>/ssh/id_ed25519` for a node whose inventory entry names no key. */
export const sshKeyPath = `${dataDir}/ssh/id_ed25519`
export const serverURL = `http://127.0.0.1:${port}`

/** The volume `main` at /data, for the daemon and for every action's one-off container. */
export const dataMounts = sdk.Mounts.of().mountVolume({
  volumeId: 'main',
  subpath: null,
  mountpoint: dataDir,
  readonly: false,
})

/** The non-root user the Dockerfile creates; actions run as it unless they need root. */
export const serviceUser = 'sparkdeck'

export function text(output: string | Buffer): string {
  return typeof output === 'string' ? output : output.toString('utf8')
}
