import { sdk } from '../sdk'
import { dataDir, dataMounts, serviceUser, sshKeyPath, text } from '../utils'

export const sshKey = sdk.Action.withoutInput(
  'ssh-key',
  async () => ({
    name: 'SSH key',
    description:
      "Shows the public key SparkDeck logs in to your Sparks with, making the key pair the first time. The private key stays in SparkDeck's data and is never shown.",
    warning: null,
    allowedStatuses: 'any',
    group: 'Setup',
    visibility: 'enabled',
  }),
  async ({ effects }) => {
    const key = await sdk.SubContainer.withTemp(effects, { imageId: 'sparkdeck' }, dataMounts, 'ssh-key', async (sub) => {
      // Made by SparkDeck's own user, so `serve` (the same user) can read it and ssh accepts its permissions.
      await sub.execFail(['chown', `${serviceUser}:${serviceUser}`, dataDir], { user: 'root' })
      await sub.execFail(['mkdir', '-p', '-m', '700', `${dataDir}/ssh`], { user: serviceUser })
      const exists = (await sub.exec(['test', '-s', sshKeyPath], { user: serviceUser })).exitCode === 0
      if (!exists) {
        await sub.execFail(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'sparkdeck@startos', '-f', sshKeyPath], {
          user: serviceUser,
        })
      }
      const publicKey = text((await sub.execFail(['ssh-keygen', '-y', '-f', sshKeyPath], { user: serviceUser })).stdout).trim()
      const fingerprint = text((await sub.execFail(['ssh-keygen', '-l', '-f', sshKeyPath], { user: serviceUser })).stdout).trim()
      return { publicKey, fingerprint, made: !exists }
    })
    return {
      version: '1' as const,
      title: "SparkDeck's SSH key",
      message:
        (key.made ? 'SparkDeck made a new key pair. ' : 'This is the key SparkDeck already has. ') +
        'On every Spark, add the public key below as one line to ~/.ssh/authorized_keys of the SSH user your inventory names. ' +
        "SparkDeck accepts each Spark's host key the first time it connects.",
      result: {
        type: 'group' as const,
        value: [
          {
            type: 'single' as const,
            name: 'Public key',
            description: 'One line for ~/.ssh/authorized_keys on each Spark',
            value: key.publicKey,
            masked: false,
            copyable: true,
            qr: false,
          },
          {
            type: 'single' as const,
            name: 'Fingerprint',
            description: 'What ssh shows for this key',
            value: key.fingerprint,
            masked: false,
            copyable: true,
            qr: false,
          },
        ],
      },
    }
  },
)
