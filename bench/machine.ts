/** Who ran the numbers: every table of the bench is printed under this line. */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import * as os from 'node:os'

export interface MachineInfo {
  cpu: string
  cores: number
  memoryGiB: number
  node: string
  v8: string
  rust: string
  os: string
  date: string
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'))
    if (line) return line.split(':').slice(1).join(':').trim()
  } catch {
    // not Linux: fall through to what os.cpus() says
  }
  return os.cpus()[0]?.model ?? 'unknown CPU'
}

function rustVersion(): string {
  try {
    return execFileSync('rustc', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return 'rustc not found'
  }
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
    rust: rustVersion(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
  }
}

/** One line naming the machine, printed above every table. */
export function machineLine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB · Node ${m.node} (V8 ${m.v8}) · ${m.rust} · ${m.os} · ${m.date.slice(0, 16).replace('T', ' ')} UTC`
}
