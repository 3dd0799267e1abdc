"""Long pastes (1-4 KB) for every tier, so prompt length is not a proxy for the tier.

Analysis: whole files or long traces with a request about them. Chat: a long passage to
summarise, rewrite or give feedback on in prose. Label: a long email, log or clause from which
one label or one short field is asked. Written for this project.
"""

ANALYSIS = [
    (
        "python",
        '''import csv
import datetime as dt
from dataclasses import dataclass


@dataclass
class Order:
    id: str
    customer: str
    placed: dt.date
    lines: list


@dataclass
class Line:
    sku: str
    qty: int
    unit_price: float


def load_orders(path):
    orders = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            oid = row["order_id"]
            if oid not in orders:
                orders[oid] = Order(oid, row["customer"], dt.datetime.strptime(row["date"], "%d/%m/%Y"), [])
            orders[oid].lines.append(Line(row["sku"], int(row["qty"]), float(row["price"])))
    return orders


def order_total(order, discounts):
    total = 0
    for line in order.lines:
        total += line.qty * line.unit_price
    code = discounts.get(order.customer)
    if code == "VIP":
        total = total * 0.9
    elif code == "STAFF":
        total = total - 0.25 * total
    return round(total, 2)


def monthly_report(orders, discounts, month):
    report = {}
    for order in orders.values():
        if order.placed.month == month:
            report.setdefault(order.customer, 0)
            report[order.customer] += order_total(order, discounts)
    return sorted(report.items(), key=lambda kv: kv[1])


def top_skus(orders, n=5):
    counts = {}
    for order in orders.values():
        for line in order.lines:
            counts[line.sku] = counts.get(line.sku, 0) + 1
    return sorted(counts, key=counts.get, reverse=True)[:n]


if __name__ == "__main__":
    orders = load_orders("orders.csv")
    discounts = {"acme": "VIP", "jo": "STAFF"}
    for customer, total in monthly_report(orders, discounts, 3):
        print(f"{customer:20} {total:10.2f}")
    print("top skus:", top_skus(orders))''',
        [
            "Our finance person says the March report doesn't match the spreadsheet. I suspect several bugs here (months from different years get mixed, sorting, top_skus counting lines instead of quantity, float money). Can you go through it, list every bug you find and give a corrected version using Decimal?",
            "Please refactor this into something testable and write pytest tests for order_total and monthly_report, including an order spanning a year boundary.",
        ],
    ),
    (
        "tsx",
        '''import React, { useState } from "react";

type FormState = {
  name: string;
  email: string;
  password: string;
  confirm: string;
  acceptTerms: boolean;
};

export default function SignupForm({ onSubmit }: { onSubmit: (s: FormState) => Promise<void> }) {
  const [state, setState] = useState<FormState>({
    name: "", email: "", password: "", confirm: "", acceptTerms: false,
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [loading, setLoading] = useState(false);

  function update(field: keyof FormState, value: any) {
    state[field] = value;
    setState(state);
  }

  function validate() {
    const e: Record<string, string> = {};
    if (!state.name) e.name = "Name is required";
    if (!state.email.includes("@")) e.email = "Email looks wrong";
    if (state.password.length < 8) e.password = "At least 8 characters";
    if (state.password != state.confirm) e.confirm = "Passwords differ";
    if (!state.acceptTerms) e.acceptTerms = "Please accept the terms";
    setErrors(e);
    return Object.keys(errors).length === 0;
  }

  async function handleSubmit(ev: React.FormEvent) {
    if (!validate()) return;
    setLoading(true);
    await onSubmit(state);
    setLoading(false);
  }

  return (
    <form onSubmit={handleSubmit}>
      <input value={state.name} onChange={e => update("name", e.target.value)} placeholder="Name" />
      {errors.name && <span>{errors.name}</span>}
      <input value={state.email} onChange={e => update("email", e.target.value)} placeholder="Email" />
      {errors.email && <span>{errors.email}</span>}
      <input type="password" value={state.password} onChange={e => update("password", e.target.value)} />
      {errors.password && <span>{errors.password}</span>}
      <input type="password" value={state.confirm} onChange={e => update("confirm", e.target.value)} />
      {errors.confirm && <span>{errors.confirm}</span>}
      <label>
        <input type="checkbox" checked={state.acceptTerms} onChange={e => update("acceptTerms", e.target.checked)} />
        I accept the terms
      </label>
      <button disabled={loading}>Sign up</button>
    </form>
  );
}''',
        [
            "Typing in the inputs doesn't update anything, the page reloads when I submit, and validation lets invalid forms through on the first click. What's going on? Fix all of it and explain each bug.",
            "rewrite this with react-hook-form + zod, keep the same fields and messages, and make the error messages accessible (aria-invalid, aria-describedby)",
        ],
    ),
    (
        "go",
        '''package main

import (
    "database/sql"
    "encoding/json"
    "log"
    "net/http"
    "strconv"

    _ "github.com/lib/pq"
)

type Todo struct {
    ID    int    `json:"id"`
    Title string `json:"title"`
    Done  bool   `json:"done"`
}

var db *sql.DB

func listTodos(w http.ResponseWriter, r *http.Request) {
    rows, err := db.Query("SELECT id, title, done FROM todos")
    if err != nil {
        http.Error(w, err.Error(), 500)
    }
    var todos []Todo
    for rows.Next() {
        var t Todo
        rows.Scan(&t.ID, &t.Title, &t.Done)
        todos = append(todos, t)
    }
    json.NewEncoder(w).Encode(todos)
}

func createTodo(w http.ResponseWriter, r *http.Request) {
    var t Todo
    json.NewDecoder(r.Body).Decode(&t)
    err := db.QueryRow("INSERT INTO todos(title) VALUES($1) RETURNING id", t.Title).Scan(&t.ID)
    if err != nil {
        http.Error(w, err.Error(), 500)
        return
    }
    w.WriteHeader(201)
    json.NewEncoder(w).Encode(t)
}

func toggleTodo(w http.ResponseWriter, r *http.Request) {
    id, _ := strconv.Atoi(r.URL.Query().Get("id"))
    _, err := db.Exec("UPDATE todos SET done = NOT done WHERE id = $1", id)
    if err != nil {
        http.Error(w, err.Error(), 500)
        return
    }
    w.WriteHeader(204)
}

func main() {
    var err error
    db, err = sql.Open("postgres", "postgres://app:secret@localhost/todos?sslmode=disable")
    if err != nil {
        log.Fatal(err)
    }
    http.HandleFunc("/todos", func(w http.ResponseWriter, r *http.Request) {
        if r.Method == "GET" {
            listTodos(w, r)
        } else {
            createTodo(w, r)
        }
    })
    http.HandleFunc("/todos/toggle", toggleTodo)
    log.Fatal(http.ListenAndServe(":8080", nil))
}''',
        [
            "Code review this Go service please. I know error handling is sloppy, but what are the actual bugs (I think there's a nil pointer when the query fails, and rows is never closed)? Then restructure it with Go 1.22 routing patterns, a Store interface and graceful shutdown.",
            "How would I write tests for these handlers without a real Postgres? show the interface extraction and httptest-based tests",
        ],
    ),
    (
        "rust",
        '''#[derive(Debug, PartialEq)]
pub enum Token {
    Num(f64),
    Plus,
    Minus,
    Star,
    Slash,
    LParen,
    RParen,
}

pub fn tokenize(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' => {}
            '+' => out.push(Token::Plus),
            '-' => out.push(Token::Minus),
            '*' => out.push(Token::Star),
            '/' => out.push(Token::Slash),
            '(' => out.push(Token::LParen),
            ')' => out.push(Token::RParen),
            '0'..='9' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                out.push(Token::Num(s.parse().unwrap()));
            }
            _ => panic!("unexpected char {}", c),
        }
        i += 1;
    }
    out
}

pub fn eval(tokens: &[Token]) -> f64 {
    let mut result = 0.0;
    let mut op = Token::Plus;
    for t in tokens {
        match t {
            Token::Num(n) => match op {
                Token::Plus => result += n,
                Token::Minus => result -= n,
                Token::Star => result *= n,
                Token::Slash => result /= n,
                _ => {}
            },
            other => op = *other,
        }
    }
    result
}''',
        [
            "tokenize(\"12+3\") skips the plus sign, eval ignores precedence and parentheses, and `op = *other` doesn't compile (cannot move out of a shared reference). Help me turn this into a proper recursive descent parser with a Result-based error type instead of panics. Explain the grammar you use.",
            "What's wrong with the number scanning loop here (why does it eat the next character)? Then add unary minus support and write tests with a few tricky expressions like -(2+3)*4 and 1/0.",
        ],
    ),
    (
        "java",
        '''@Service
public class InvoiceService {

    @Autowired
    private InvoiceRepository invoices;
    @Autowired
    private CustomerRepository customers;
    @Autowired
    private MailClient mail;

    @Transactional
    public Invoice issue(Long customerId, List<LineItem> items) {
        Customer c = customers.findById(customerId).orElseThrow();
        Invoice inv = new Invoice();
        inv.setCustomer(c);
        double total = 0;
        for (LineItem li : items) {
            total += li.getQuantity() * li.getUnitPrice();
        }
        if (c.getCountry().equals("DE")) {
            total = total * 1.19;
        }
        inv.setTotal(total);
        inv.setNumber("INV-" + (invoices.count() + 1));
        invoices.save(inv);
        mail.send(c.getEmail(), "Your invoice " + inv.getNumber(), render(inv));
        return inv;
    }

    public List<Invoice> overdue() {
        List<Invoice> result = new ArrayList<>();
        for (Invoice i : invoices.findAll()) {
            if (i.getDueDate().before(new Date()) && !i.isPaid()) {
                result.add(i);
            }
        }
        return result;
    }

    private String render(Invoice inv) {
        return "Dear " + inv.getCustomer().getName() + ", please pay " + inv.getTotal();
    }
}''',
        [
            "We've had two invoices with the same number in production and a customer got an email for an invoice that was then rolled back. Explain why both can happen here and how you'd redesign issue() (sequence for numbers, sending mail after commit, BigDecimal for money, VAT rules).",
            "overdue() loads every invoice into memory. rewrite it as a Spring Data query with pagination and write a @DataJpaTest for it",
        ],
    ),
    (
        "sql",
        '''WITH first_orders AS (
    SELECT customer_id, MIN(created_at) AS first_order_at
    FROM orders
    GROUP BY customer_id
),
cohorts AS (
    SELECT customer_id, DATE_TRUNC('month', first_order_at) AS cohort_month
    FROM first_orders
),
activity AS (
    SELECT o.customer_id,
           DATE_TRUNC('month', o.created_at) AS active_month,
           SUM(o.total) AS revenue
    FROM orders o
    WHERE o.status = 'paid'
    GROUP BY 1, 2
),
joined AS (
    SELECT c.cohort_month,
           a.active_month,
           EXTRACT(MONTH FROM AGE(a.active_month, c.cohort_month)) AS month_number,
           COUNT(DISTINCT a.customer_id) AS active_customers,
           SUM(a.revenue) AS revenue
    FROM cohorts c
    JOIN activity a ON a.customer_id = c.customer_id
    GROUP BY 1, 2, 3
)
SELECT j.cohort_month,
       j.month_number,
       j.active_customers,
       j.active_customers::float / s.cohort_size AS retention,
       j.revenue
FROM joined j
JOIN (SELECT cohort_month, COUNT(*) AS cohort_size FROM cohorts GROUP BY 1) s
  ON s.cohort_month = j.cohort_month
ORDER BY 1, 2;''',
        [
            "This cohort retention query gives month_number 0 again after 12 months, and cohorts include customers whose first order was never paid. Can you fix both problems, explain why EXTRACT(MONTH FROM AGE(...)) wraps, and tell me how to make it fast on 50M orders in Postgres?",
        ],
    ),
    (
        "yaml",
        '''apiVersion: v1
kind: ConfigMap
metadata:
  name: worker-config
data:
  QUEUE_URL: amqp://rabbitmq:5672
  CONCURRENCY: "8"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  replicas: 2
  selector:
    matchLabels:
      app: worker
  template:
    metadata:
      labels:
        app: worker
    spec:
      containers:
        - name: worker
          image: ghcr.io/acme/worker:2.1.0
          envFrom:
            - configMapRef:
                name: worker-configs
          env:
            - name: DB_PASSWORD
              value: hunter2
          resources:
            limits:
              memory: 256Mi
          livenessProbe:
            httpGet:
              path: /health
              port: 8080
            initialDelaySeconds: 1
            periodSeconds: 2
            failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata:
  name: worker
spec:
  selector:
    app: workers
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: worker
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: worker
  minReplicas: 2
  maxReplicas: 20
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 60''',
        [
            "The pods never become ready, restart constantly, the service has no endpoints and the HPA shows <unknown>/60%. Go through this manifest and find every problem, explain each one and give me the corrected YAML. Also the password in plain text is probably bad?",
            "Our worker is queue driven, so CPU-based autoscaling doesn't make sense. How would I scale it on RabbitMQ queue length instead (KEDA?) and what would the manifests look like?",
        ],
    ),
    (
        "text",
        '''Internal Server Error: /api/checkout/
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/django/core/handlers/exception.py", line 55, in inner
    response = get_response(request)
  File "/venv/lib/python3.11/site-packages/django/core/handlers/base.py", line 197, in _get_response
    response = wrapped_callback(request, *callback_args, **callback_kwargs)
  File "/venv/lib/python3.11/site-packages/django/views/decorators/csrf.py", line 56, in wrapper_view
    return view_func(*args, **kwargs)
  File "/venv/lib/python3.11/site-packages/rest_framework/viewsets.py", line 125, in view
    return self.dispatch(request, *args, **kwargs)
  File "/venv/lib/python3.11/site-packages/rest_framework/views.py", line 509, in dispatch
    response = self.handle_exception(exc)
  File "/venv/lib/python3.11/site-packages/rest_framework/views.py", line 506, in dispatch
    response = handler(request, *args, **kwargs)
  File "/app/shop/views/checkout.py", line 48, in create
    order = services.place_order(request.user, serializer.validated_data)
  File "/app/shop/services/orders.py", line 102, in place_order
    stock = Stock.objects.select_for_update().get(sku=line["sku"])
  File "/venv/lib/python3.11/site-packages/django/db/models/query.py", line 637, in get
    raise self.model.DoesNotExist(
shop.models.Stock.DoesNotExist: Stock matching query does not exist.

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/shop/services/orders.py", line 121, in place_order
    payment.refund(charge_id)
  File "/app/shop/payments/client.py", line 77, in refund
    raise PaymentError(f"refund failed for {charge_id}: {resp.status_code}")
shop.payments.client.PaymentError: refund failed for ch_3Pq: 404''',
        [
            "This happens in checkout when a product was deleted from the catalogue while in someone's cart. It looks like we charge the card before checking the stock, and then the refund fails because the charge id is wrong. Can you reason through what place_order must be doing, and propose the right order of operations (reserve stock, charge, commit) with the transaction boundaries?",
        ],
    ),
    (
        "javascript",
        '''const express = require("express");
const jwt = require("jsonwebtoken");
const bcrypt = require("bcrypt");
const { Pool } = require("pg");

const app = express();
const pool = new Pool();
app.use(express.json());

const SECRET = "changeme";

app.post("/register", async (req, res) => {
  const { email, password } = req.body;
  const hash = bcrypt.hashSync(password, 4);
  await pool.query("INSERT INTO users(email, password) VALUES($1, $2)", [email, hash]);
  res.send({ ok: true });
});

app.post("/login", async (req, res) => {
  const { email, password } = req.body;
  const { rows } = await pool.query("SELECT * FROM users WHERE email = $1", [email]);
  if (rows.length == 0) return res.status(404).send("no such user");
  if (!bcrypt.compareSync(password, rows[0].password)) return res.status(401).send("wrong password");
  const token = jwt.sign({ id: rows[0].id, email, isAdmin: rows[0].is_admin }, SECRET);
  res.send({ token });
});

function auth(req, res, next) {
  const token = req.headers.authorization;
  try {
    req.user = jwt.decode(token);
    next();
  } catch (e) {
    res.status(401).send("bad token");
  }
}

app.get("/admin/users", auth, async (req, res) => {
  if (!req.user.isAdmin) return res.status(403).send("forbidden");
  const { rows } = await pool.query("SELECT * FROM users");
  res.send(rows);
});

app.listen(3000);''',
        [
            "Security audit this auth code before we ship. I want a numbered list of issues ordered by severity (I'm especially worried about jwt.decode vs verify), and then a corrected version.",
            "convert this to TypeScript with proper middleware typing, async error handling, refresh tokens with rotation, and explain how you'd store the refresh tokens",
        ],
    ),
    (
        "bash",
        '''#!/bin/bash
# deploy.sh - builds and deploys the app to the two web servers

APP=shop
SERVERS="web1.internal web2.internal"
VERSION=$1

echo "Deploying $APP version $VERSION"

cd /home/deploy/$APP
git pull
npm install
npm run build

tar czf /tmp/$APP.tar.gz dist

for s in $SERVERS; do
  scp /tmp/$APP.tar.gz deploy@$s:/tmp/
  ssh deploy@$s "cd /var/www && rm -rf $APP && mkdir $APP && tar xzf /tmp/$APP.tar.gz -C $APP && sudo systemctl restart $APP"
done

curl -s http://web1.internal/health
curl -s http://web2.internal/health

echo "Deployed!"''',
        [
            "Last week this took the site down: the build failed halfway but the script kept going and deployed an empty dist to both servers at the same time. Rewrite it so it stops on any error, checks out the given VERSION tag, deploys one server at a time with a health check that must pass before the next, keeps the previous release for instant rollback (symlink switch), and explain the design.",
        ],
    ),
]

CHAT = [
    (
        "chat-summary",
        "Can you summarise this for the parents' WhatsApp group in a few friendly sentences?\n\n"
        "Dear parents and carers, as we approach the end of the autumn term we would like to remind you of several "
        "important dates and changes. The school will close at 1.30pm on Friday 20 December, and pupils should be "
        "collected promptly; the after-school club will not run that day. The spring term begins on Tuesday 7 January, "
        "following a staff training day on Monday 6 January. From January, the school gates will open at 8.35am rather "
        "than 8.30am, because of the new crossing patrol arrangements agreed with the council, and we ask that you do not "
        "park on the zig-zag lines outside the main entrance, as several near misses have been reported. The winter "
        "concert will take place on Wednesday 18 December at 2pm and 6pm; tickets are free but limited to two per family "
        "and must be reserved through the office by Friday 13 December. Finally, the lost property box is overflowing. Any "
        "unnamed items not collected by the end of term will be donated to the local charity shop. Thank you for your "
        "continued support, and we wish all our families a restful holiday.",
    ),
    (
        "chat-rewrite",
        "Here's the intro of my personal statement for a master's in public health. Can you give me feedback on the tone and rewrite it so it's more compelling and less cliché?\n\n"
        "Ever since I was a child, I have always been passionate about helping people. Growing up in a small town, I saw "
        "how difficult it was for my neighbours to get to a doctor, and this made me want to make a difference in the "
        "world. During my undergraduate degree in biology I learned a lot about diseases and how they spread, and I "
        "really enjoyed my statistics module, even though it was hard at first. After graduating I worked for two years "
        "as a research assistant at a regional hospital, where I helped with a study about diabetes in rural areas. I "
        "collected data, cleaned spreadsheets and sometimes interviewed patients. This experience taught me that health "
        "is not only about medicine but also about where people live, what they eat and whether they can afford care. I "
        "believe that a master's in public health is the next logical step for me, and your programme is the perfect "
        "fit because of its focus on health inequalities and its excellent reputation.",
    ),
    (
        "chat-summary",
        "I have to present this to the team tomorrow, can you turn it into a short plain-language summary I can read out (no bullet points)?\n\n"
        "Following the incident on 3 March, in which the customer portal was unavailable for approximately 47 minutes "
        "between 14:12 and 14:59 UTC, the operations group conducted a review. The outage was triggered when a routine "
        "certificate renewal on the load balancer failed silently, because the renewal job had been moved to a new "
        "scheduler in February and its alerting had not been migrated. When the old certificate expired, browsers began "
        "rejecting connections. The on-call engineer was paged by a customer report rather than by monitoring, about 20 "
        "minutes after the expiry. Recovery consisted of issuing a certificate manually and reloading the load balancer. "
        "The review identified three actions: restoring alerting on the renewal job, adding an external check that warns "
        "30 days before any certificate expires, and documenting the manual renewal steps in the runbook. No customer data "
        "was affected.",
    ),
    (
        "chat-rewrite",
        "My dad wrote this toast for my wedding and asked me to polish it but keep his voice. Can you make it flow better and a bit shorter?\n\n"
        "Good evening everybody, for those who don't know me I am Peter, Emma's father, and I have been told I have five "
        "minutes so I will try to keep it to ten. When Emma was small she wanted to be an astronaut, then a vet, then a "
        "lawyer, then for one summer a professional skateboarder, which her mother and I did not enjoy very much. What never "
        "changed was that once she decided something she did it with her whole heart. So when she told us about this man "
        "she had met at a climbing wall who made her laugh until she fell off, we knew it was serious. Daniel, you have been "
        "patient with our family, you have eaten my barbecue without complaining, and you have made our daughter happier "
        "than we have ever seen her. Please raise your glasses to Emma and Daniel.",
    ),
    (
        "chat-explain",
        "My GP gave me this letter and I don't really understand it. Can you explain in plain words what it means for me? (I know you're not a doctor.)\n\n"
        "Your recent blood tests show a fasting glucose of 6.4 mmol/L and an HbA1c of 44 mmol/mol. These values are above "
        "the normal range but below the threshold for a diagnosis of type 2 diabetes, and are consistent with "
        "non-diabetic hyperglycaemia (sometimes called prediabetes). Your cholesterol results are within the target range. "
        "We recommend that you are referred to the NHS Diabetes Prevention Programme, which offers support with diet and "
        "physical activity over nine months. We will repeat the HbA1c test in twelve months. Please book an appointment if "
        "you notice increased thirst, frequent urination or unexplained weight loss.",
    ),
]

LABEL = [
    (
        "label-support-ticket",
        "System: Classify the email into exactly one of: billing, technical, account, shipping, other. Reply with the label only.\n"
        "User: Hello,\n\nI'm writing on behalf of our office (we have the team plan with 14 seats). Since Tuesday, three of "
        "my colleagues cannot open shared documents: the app shows a spinning wheel and then 'Something went wrong (code "
        "0x8004)'. We have tried logging out and in again, clearing the cache and reinstalling the desktop client on one of "
        "the machines, with no change. The web version works for them, and the problem does not affect people who joined "
        "the team more than a year ago. We are on Windows 11 and macOS 14, both affected. Our renewal is coming up next "
        "month and I would like this fixed before then; please let me know if you need logs. I can also arrange a screen "
        "share in the afternoons.\n\nBest regards,\nHelena Varga\nOffice Manager",
    ),
    (
        "label-extraction",
        "Extract the notice period for termination from the clause below. Answer with the period only (e.g. '30 days').\n\n"
        "12. TERM AND TERMINATION. 12.1 This Agreement commences on the Effective Date and continues for an initial term of "
        "twenty-four (24) months, after which it renews automatically for successive periods of twelve (12) months unless "
        "either party gives written notice of non-renewal. 12.2 Either party may terminate this Agreement for convenience "
        "by giving the other party not less than ninety (90) days' prior written notice, provided that no such notice may "
        "take effect during the initial term. 12.3 Either party may terminate this Agreement with immediate effect if the "
        "other party commits a material breach which, if remediable, is not remedied within thirty (30) days of written "
        "notice. 12.4 Upon termination, the Customer shall pay all fees accrued up to the date of termination.",
    ),
    (
        "label-tagging",
        "You are an on-call triage bot. From the log excerpt, answer with the name of the service that failed first "
        "(one of: gateway, auth, orders, payments, inventory). Output the name only.\n\n"
        "2025-04-11T09:14:02.118Z gateway  INFO  GET /api/orders/8812 200 41ms\n"
        "2025-04-11T09:14:05.402Z inventory WARN pool exhausted: 50/50 connections in use, waiting\n"
        "2025-04-11T09:14:07.993Z inventory ERROR query timeout after 5000ms: SELECT qty FROM stock WHERE sku=$1\n"
        "2025-04-11T09:14:08.001Z orders   ERROR reserve stock failed: upstream inventory: deadline exceeded\n"
        "2025-04-11T09:14:08.004Z gateway  WARN  POST /api/checkout 504 5012ms\n"
        "2025-04-11T09:14:08.310Z payments INFO  no charge created for cart c_1183 (order not reserved)\n"
        "2025-04-11T09:14:09.775Z orders   ERROR reserve stock failed: upstream inventory: deadline exceeded\n"
        "2025-04-11T09:14:09.780Z gateway  WARN  POST /api/checkout 504 5020ms\n"
        "2025-04-11T09:14:12.101Z auth     INFO  token refreshed for user u_2231",
    ),
    (
        "label-sentiment",
        "Rate the overall sentiment of this hotel review as positive, negative or mixed. One word.\n\n"
        "We stayed four nights in late September. The location is hard to beat: five minutes' walk from the old town and "
        "right by the tram stop to the beach. Reception staff were friendly and let us check in early, which after an "
        "overnight flight was a blessing. The room itself was a letdown, though. The air conditioning rattled all night, "
        "the shower drained so slowly that the bathroom flooded twice, and the 'sea view' turned out to be a sliver of blue "
        "between two apartment blocks. Breakfast was decent but the same every day. When we raised the shower problem it "
        "was fixed within the hour, which we appreciated. Would we come back? Probably, but we would ask for a different "
        "room.",
    ),
    (
        "label-yes-no",
        "Does the following pull request description mention a breaking change? Answer yes or no.\n\n"
        "## Summary\nThis PR moves the retry logic from the HTTP client into a middleware so it can be shared by the gRPC "
        "client. Retries now use exponential backoff with full jitter instead of a fixed 500 ms delay.\n\n## Changes\n- new "
        "`RetryMiddleware` with `max_attempts` and `base_delay` options\n- `HttpClient::with_retries(n)` is removed; pass "
        "`RetryMiddleware::new().max_attempts(n)` instead\n- the `RETRY_DELAY_MS` environment variable is no longer read\n"
        "- docs and examples updated\n\n## Testing\nUnit tests for the backoff schedule, plus the existing integration "
        "suite against the mock server.",
    ),
]
