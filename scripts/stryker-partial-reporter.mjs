// A Stryker reporter that appends each mutant's result to `<workDir>/partial.jsonl` as soon as it is known, so a
// run cut short (a deadline, a busy machine) still leaves the files it finished: `node scripts/mutate.mjs --partial`
// scores those (every mutant of the file tested) and names the others as not measured.
import { appendFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { declareClassPlugin, PluginKind } from '@stryker-mutator/api/plugin';

const file = `${process.env.MUTATE_DIR ?? '.tmp/stryker'}/partial.jsonl`;

class PartialReporter {
  onMutationTestingPlanReady({ mutantPlans }) {
    // First line: how many mutants each file has, so a file is known to be complete.
    const total = {};
    for (const { mutant } of mutantPlans) {
      const name = relative(process.cwd(), mutant.fileName);
      total[name] = (total[name] ?? 0) + 1;
    }
    writeFileSync(file, `${JSON.stringify({ total })}\n`);
  }

  onMutantTested(result) {
    const { id, mutatorName, replacement, location, status, statusReason, coveredBy, killedBy } = result;
    appendFileSync(file, `${JSON.stringify({
      fileName: relative(process.cwd(), result.fileName), id, mutatorName, replacement, location, status, statusReason, coveredBy, killedBy,
      static: result.static,
    })}\n`);
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'partial', PartialReporter)];
