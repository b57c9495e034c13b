// Readers for what SparkDeck's CLI prints, kept apart from the SDK so they are plain functions.

/** `sparkdeck inventory check --json`. */
export type InventoryCheck = {
  valid: boolean
  file: string
  problems: string[]
  message: string | null
  nodes: { id: string; host: string }[]
  actions: { id: string; name: string; node: string; description: string }[]
}

export function parseInventoryCheck(stdout: string): InventoryCheck {
  const line = stdout.trim().split('\n').pop() ?? ''
  const value = JSON.parse(line) as Partial<InventoryCheck>
  if (typeof value.valid !== 'boolean' || !Array.isArray(value.problems)) {
    throw new Error(`sparkdeck inventory check printed no result: ${stdout.slice(0, 200)}`)
  }
  return {
    valid: value.valid,
    file: value.file ?? '',
    problems: value.problems,
    message: value.message ?? null,
    nodes: value.nodes ?? [],
    actions: value.actions ?? [],
  }
}

/** `sparkdeck keys create`: "Created <id> (<name>) with scopes ..." then "Key (shown only now): <key>". */
export function parseCreatedKey(stdout: string): { id: string; key: string } {
  const id = /^Created (\S+) /m.exec(stdout)?.[1]
  const key = /^Key \(shown only now\): (\S+)\s*$/m.exec(stdout)?.[1]
  if (!id || !key) throw new Error('sparkdeck keys create printed no key')
  return { id, key }
}

/** `sparkdeck keys list`: the ids of the active keys; none when it says the API is open. */
export function activeKeyIds(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 3 && fields[2] === 'active')
    .map((fields) => fields[0])
}

/** Fills the example inventory's placeholders with checked values (each must already have passed its pattern). */
export function fillInventoryTemplate(
  template: string,
  values: { llmNodeIP: string; speechNodeIP: string; sshUser: string },
): string {
  if (!isIPv4(values.llmNodeIP) || !isIPv4(values.speechNodeIP)) {
    throw new Error('node addresses must be IPv4 literals like 192.0.2.10')
  }
  if (!isUserName(values.sshUser)) {
    throw new Error("the SSH user may hold letters, digits, '.', '_' and '-', starting with a letter or '_'")
  }
  return template
    .split('<spark-1-ip>')
    .join(values.llmNodeIP)
    .split('<spark-2-ip>')
    .join(values.speechNodeIP)
    .split('<ssh-user>')
    .join(values.sshUser)
}

// The same rules as the inventory's own check (InventoryValidator.isIPv4 / isValidUser), so a value that passes
// here can only be a plain token in the YAML.
export const ipv4Pattern = '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$'
export const userPattern = '^[A-Za-z_][A-Za-z0-9._-]{0,31}$'

export function isIPv4(value: string): boolean {
  return new RegExp(ipv4Pattern).test(value)
}

export function isUserName(value: string): boolean {
  return new RegExp(userPattern).test(value)
}
