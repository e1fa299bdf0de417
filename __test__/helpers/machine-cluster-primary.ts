/**
 * A cluster primary: forks `workers` workers running machine-child.ts in 'mix' mode on one
 * machine-wide cache and prints their reports as one JSON line.
 *
 *   node --import=tsx __test__/helpers/machine-cluster-primary.ts <workers> '<json config>'
 */
import cluster from 'node:cluster'
import { join } from 'node:path'

const workers = Number(process.argv[2])
const config = process.argv[3]
cluster.setupPrimary({ exec: join(__dirname, 'machine-child.ts'), execArgv: ['--import=tsx'], args: [config] })
const reports: unknown[] = []
for (let i = 0; i < workers; i++) {
  cluster.fork().on('message', (m) => {
    reports.push(m)
    if (reports.length === workers) process.stdout.write(JSON.stringify(reports) + '\n')
  })
}
