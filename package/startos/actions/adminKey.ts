import * as fs from 'node:fs/promises'
import { SubContainer, T } from '@start9labs/start-sdk'
import { activeKeyIds, parseCreatedKey } from '../cli'
import { storeJson, storeSubpath } from '../fileModels/store.json'
import { manifest } from '../manifest'
import { sdk } from '../sdk'
import { dataDir, serviceUser, sparkdeck, text } from '../utils'

type Sub = SubContainer<typeof manifest>

/**
 * The environment for a `sparkdeck` CLI call that changes the cluster. While no API key exists the API is open and
 * none is needed (making one here would close the API behind the owner's back); once the owner has made a key, the
 * package keeps an admin key of its own in the volume, and makes a new one when that was revoked.
 */
export async function adminKeyEnv(effects: T.Effects, sub: Sub): Promise<Record<string, string>> {
  const listed = text((await sub.execFail([sparkdeck, 'keys', 'list', '--data', dataDir], { user: serviceUser })).stdout)
  const active = activeKeyIds(listed)
  if (active.length === 0) return {}
  const stored = await storeJson.read((store) => store.actionsKey).once()
  if (stored && active.includes(stored.id)) return { SPARKDECK_API_KEY: stored.key }
  const created = parseCreatedKey(
    text(
      (
        await sub.execFail(
          [sparkdeck, 'keys', 'create', '--name', 'startos-actions', '--scopes', 'admin', '--data', dataDir],
          { user: serviceUser },
        )
      ).stdout,
    ),
  )
  await storeJson.merge(effects, { actionsKey: created })
  await fs.chmod(sdk.volumes.main.subpath(storeSubpath), 0o600)
  return { SPARKDECK_API_KEY: created.key }
}
