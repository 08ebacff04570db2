#!/usr/bin/env node
import '../util/polyfill.js'
import { main } from './program.js'

process.exitCode = await main(process.argv.slice(2))
