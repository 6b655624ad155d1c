interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Schema?: string;
  'Total Cost': number;
  Plans?: PlanNode[];
}

export interface PgPlan {
  totalCost: number;
  tables: string[];
}

/** Reads `EXPLAIN (FORMAT JSON)` output: the root's total cost and every relation scanned. */
export function readPgPlan(json: string): PgPlan {
  const [{ Plan: root }] = JSON.parse(json) as [{ Plan: PlanNode }];
  const tables = new Set<string>();
  const visit = (node: PlanNode) => {
    if (node['Relation Name']) tables.add(node.Schema ? `${node.Schema}.${node['Relation Name']}` : node['Relation Name']);
    node.Plans?.forEach(visit);
  };
  visit(root);
  return { totalCost: root['Total Cost'], tables: [...tables] };
}
