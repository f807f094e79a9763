/**
 * Representative read queries for the analysis benchmark: what people send during an incident
 * (a point lookup, a few joins, CTEs) and what a reporting dashboard sends (a ~5 KB statement
 * with CTEs, CASE columns, set operations and subqueries). All are allowed statements, so the
 * analyser does its full work (a refusal can stop early and would flatter the numbers).
 */
export interface RepresentativeQuery {
  readonly name: string;
  readonly sql: string;
}

const SIMPLE = 'SELECT emp_no, first_name, last_name, hire_date FROM employee WHERE emp_no = 10001';

const JOINS = `SELECT e.emp_no, e.first_name, e.last_name, t.title, s.amount, d.dept_name
FROM employee e
JOIN title t ON t.emp_no = e.emp_no
JOIN salary s ON s.emp_no = e.emp_no
LEFT JOIN department d ON d.dept_no = e.dept_no
WHERE e.hire_date >= '2020-01-01' AND s.amount > 50000 AND t.title <> 'Intern'
ORDER BY s.amount DESC, e.emp_no
LIMIT 50`;

const CTES = `WITH recent AS (
  SELECT emp_no, hire_date, dept_no FROM employee WHERE hire_date > '2023-01-01'
), paid AS (
  SELECT emp_no, MAX(amount) AS top_amount, COUNT(*) AS changes FROM salary GROUP BY emp_no
), ranked AS (
  SELECT r.emp_no, r.dept_no, p.top_amount,
         RANK() OVER (PARTITION BY r.dept_no ORDER BY p.top_amount DESC) AS pos
  FROM recent r JOIN paid p ON p.emp_no = r.emp_no
)
SELECT k.dept_no, d.dept_name, k.emp_no, k.top_amount
FROM ranked k JOIN department d ON d.dept_no = k.dept_no
WHERE k.pos <= 3 AND k.top_amount > (SELECT AVG(amount) FROM salary)
ORDER BY k.dept_no, k.pos`;

/** A dashboard-style report, generated to about 5 KB. */
function reportingQuery(): string {
  const years = [2020, 2021, 2022, 2023, 2024];
  const perYear = years
    .map(
      (y) =>
        `    SUM(CASE WHEN s.from_date >= '${y}-01-01' AND s.from_date < '${y + 1}-01-01' THEN s.amount ELSE 0 END) AS paid_${y},\n` +
        `    COUNT(CASE WHEN e.hire_date >= '${y}-01-01' AND e.hire_date < '${y + 1}-01-01' THEN 1 END) AS hired_${y}`,
    )
    .join(',\n');
  const titles = ['Engineer', 'Senior Engineer', 'Staff', 'Manager', 'Technique Leader'];
  const perTitle = titles
    .map(
      (t, i) =>
        `    SUM(CASE WHEN t.title = '${t}' THEN 1 ELSE 0 END) AS title_${i},\n` +
        `    ROUND(AVG(CASE WHEN t.title = '${t}' THEN s.amount END), 2) AS avg_${i}`,
    )
    .join(',\n');
  return `WITH dept_staff AS (
  SELECT d.dept_no, d.dept_name, e.emp_no, e.hire_date
  FROM department d
  JOIN employee e ON e.dept_no = d.dept_no
  WHERE e.hire_date >= '2015-01-01'
), current_titles AS (
  SELECT t.emp_no, t.title FROM title t
  WHERE t.to_date IS NULL OR t.to_date > '2024-06-30'
), salary_bands AS (
  SELECT s.emp_no,
    CASE WHEN s.amount < 40000 THEN 'low'
         WHEN s.amount < 80000 THEN 'mid'
         WHEN s.amount < 120000 THEN 'high'
         ELSE 'top' END AS band,
    s.amount
  FROM salary s
  WHERE s.to_date IS NULL
)
SELECT ds.dept_no, ds.dept_name,
    COUNT(DISTINCT ds.emp_no) AS staff,
${perYear},
${perTitle},
    SUM(CASE WHEN b.band = 'low' THEN 1 ELSE 0 END) AS band_low,
    SUM(CASE WHEN b.band = 'mid' THEN 1 ELSE 0 END) AS band_mid,
    SUM(CASE WHEN b.band = 'high' THEN 1 ELSE 0 END) AS band_high,
    SUM(CASE WHEN b.band = 'top' THEN 1 ELSE 0 END) AS band_top,
    COALESCE(MAX(b.amount), 0) AS max_amount,
    COALESCE(MIN(b.amount), 0) AS min_amount
FROM dept_staff ds
JOIN employee e ON e.emp_no = ds.emp_no
LEFT JOIN salary s ON s.emp_no = ds.emp_no
LEFT JOIN current_titles t ON t.emp_no = ds.emp_no
LEFT JOIN salary_bands b ON b.emp_no = ds.emp_no
WHERE ds.dept_no IN (SELECT dept_no FROM department WHERE dept_name <> 'Archive')
  AND NOT EXISTS (SELECT 1 FROM title x WHERE x.emp_no = ds.emp_no AND x.title = 'Contractor')
GROUP BY ds.dept_no, ds.dept_name
HAVING COUNT(DISTINCT ds.emp_no) > 5
UNION ALL
SELECT 'all', 'All departments',
    COUNT(DISTINCT e.emp_no),
${perYear.replace(/ds\./g, 'e.')},
${perTitle},
    0, 0, 0, 0,
    COALESCE(MAX(s.amount), 0),
    COALESCE(MIN(s.amount), 0)
FROM employee e
LEFT JOIN salary s ON s.emp_no = e.emp_no
LEFT JOIN current_titles t ON t.emp_no = e.emp_no
ORDER BY 1`;
}

export const REPRESENTATIVE_QUERIES: readonly RepresentativeQuery[] = [
  { name: 'simple (point select)', sql: SIMPLE },
  { name: 'joins (4 tables)', sql: JOINS },
  { name: 'CTEs (3 CTEs, window, subquery)', sql: CTES },
  { name: 'reporting (~5 KB)', sql: reportingQuery() },
];
