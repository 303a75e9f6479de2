#!/usr/bin/env node
require('../scripts/launch.cjs').start();
