"""Analysis tier: requests that paste code (or config) and ask for debugging, review or changes.

Each snippet carries the asks a user would plausibly make about it; the generator pairs each
ask with the snippet once, so a snippet yields a few different requests, never the same one.
Snippets are written for this project.
"""

SNIPPETS = [
    {
        "lang": "python",
        "code": '''def average(nums):
    total = 0
    for n in nums:
        total += n
    return total / len(nums)

print(average([]))''',
        "asks": [
            "this crashes with ZeroDivisionError when the list is empty. how should I handle that properly?",
            "Can you rewrite this to be more pythonic and add type hints?",
        ],
    },
    {
        "lang": "python",
        "code": '''import requests

def fetch_all(urls):
    results = []
    for u in urls:
        r = requests.get(u)
        results.append(r.json())
    return results''',
        "asks": [
            "This takes forever with 500 urls. Rewrite it with asyncio/httpx so it runs concurrently, but limit it to 20 requests at a time.",
            "Add retries with exponential backoff and a timeout. Some of the endpoints return 503 now and then.",
            "what happens here if one url returns HTML instead of JSON? make it skip bad responses and log them",
        ],
    },
    {
        "lang": "python",
        "code": '''class Cache:
    def __init__(self, items={}):
        self.items = items

    def put(self, k, v):
        self.items[k] = v

a = Cache()
b = Cache()
a.put("x", 1)
print(b.items)  # prints {'x': 1} ???''',
        "asks": [
            "why does b see the value I put in a?? they're different objects",
            "Explain what is going on here and fix it. Also is there a linter rule that would have caught this?",
        ],
    },
    {
        "lang": "python",
        "code": '''from django.db import models

class Author(models.Model):
    name = models.CharField(max_length=100)

class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)

# views.py
def book_list(request):
    books = Book.objects.all()
    data = [{"title": b.title, "author": b.author.name} for b in books]
    return JsonResponse(data, safe=False)''',
        "asks": [
            "The Django debug toolbar shows 301 queries on this page. What's wrong and how do I fix it?",
            "How would I paginate this view and also let the client filter by author name? Show the code.",
        ],
    },
    {
        "lang": "python",
        "code": '''import pandas as pd

df = pd.read_csv("sales.csv")
for i in range(len(df)):
    if df["region"][i] == "EU":
        df["price"][i] = df["price"][i] * 1.2
df.to_csv("sales_out.csv")''',
        "asks": [
            "I get SettingWithCopyWarning and it's super slow on 2M rows. Vectorise it please.",
            "rewrite this so it also groups by month and writes total revenue per region per month. the csv has a `date` column like 2024-03-17",
        ],
    },
    {
        "lang": "python",
        "code": '''from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()

class Item(BaseModel):
    name: str
    price: float

items = []

@app.post("/items")
def create(item: Item):
    items.append(item)
    return item

@app.get("/items/{idx}")
def read(idx: int):
    return items[idx]''',
        "asks": [
            "GET /items/5 returns a 500 when there are only 2 items. How do I return a proper 404? Also is the global list safe with multiple workers?",
            "Replace the in-memory list with SQLAlchemy + SQLite and write pytest tests for both endpoints using TestClient.",
        ],
    },
    {
        "lang": "python",
        "code": '''import threading

counter = 0

def work():
    global counter
    for _ in range(100000):
        counter += 1

threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(counter)''',
        "asks": [
            "Sometimes this prints less than 800000. I thought the GIL made this safe? explain",
            "Show me three ways to fix this and which one is fastest, with reasoning.",
        ],
    },
    {
        "lang": "javascript",
        "code": '''for (var i = 0; i < 5; i++) {
  setTimeout(function () {
    console.log(i);
  }, 100);
}''',
        "asks": [
            "why does this print 5 five times instead of 0 1 2 3 4",
            "Explain the event loop behaviour here step by step and give two fixes.",
        ],
    },
    {
        "lang": "javascript",
        "code": '''async function loadUsers(ids) {
  const users = [];
  ids.forEach(async (id) => {
    const res = await fetch(`/api/users/${id}`);
    users.push(await res.json());
  });
  return users;
}

loadUsers([1, 2, 3]).then(u => console.log(u.length)); // 0''',
        "asks": [
            "It logs 0 even though the requests succeed in the network tab. What am I doing wrong?",
            "Fix it and make the requests run in parallel but keep the results in the same order as ids. Also handle a failed request without losing the others.",
        ],
    },
    {
        "lang": "jsx",
        "code": '''import { useEffect, useState } from "react";

export default function Search({ query }) {
  const [results, setResults] = useState([]);

  useEffect(() => {
    fetch(`/api/search?q=${query}`)
      .then(r => r.json())
      .then(setResults);
  });

  return <ul>{results.map(r => <li>{r.title}</li>)}</ul>;
}''',
        "asks": [
            "My component is sending hundreds of requests per second and the browser freezes. what is wrong with this useEffect",
            "Fix the bugs here (I think there are several: the loop, keys, race conditions when query changes fast, encoding). Add debouncing too.",
            "Convert this to TypeScript and use React Query instead of the manual fetch.",
        ],
    },
    {
        "lang": "tsx",
        "code": '''type Props = { items: string[]; onSelect: (s: string) => void };

export function List({ items, onSelect }: Props) {
  const [selected, setSelected] = useState<string>();
  const sorted = items.sort();
  return (
    <div>
      {sorted.map((item, i) => (
        <button key={i} onClick={() => { setSelected(item); onSelect(item) }}>
          {item === selected ? <b>{item}</b> : item}
        </button>
      ))}
    </div>
  );
}''',
        "asks": [
            "The parent's items array gets reordered after this renders, which breaks another component. Why? Review the whole component please.",
            "how do I memoize this properly so it doesn't re-render every button when the parent re-renders? show the code with useMemo/useCallback/React.memo and explain when it's worth it",
        ],
    },
    {
        "lang": "typescript",
        "code": '''interface User { id: number; name: string; email?: string }

function getEmails(users: User[]): string[] {
  return users.map(u => u.email).filter(e => e !== undefined);
}''',
        "asks": [
            "TS complains: Type '(string | undefined)[]' is not assignable to type 'string[]'. but I filtered the undefineds out?",
            "Explain type predicates and write a generic `isDefined` helper that fixes this, with a couple of tests in vitest.",
        ],
    },
    {
        "lang": "typescript",
        "code": '''import express from "express";
const app = express();

app.get("/user/:id", async (req, res) => {
  const user = await db.query(`SELECT * FROM users WHERE id = ${req.params.id}`);
  res.json(user);
});

app.listen(3000);''',
        "asks": [
            "Security review this endpoint please. What's exploitable and how would you fix it?",
            "Add input validation with zod, proper error handling middleware and a 404 when the user doesn't exist.",
        ],
    },
    {
        "lang": "rust",
        "code": '''fn longest(a: &str, b: &str) -> &str {
    if a.len() > b.len() { a } else { b }
}

fn main() {
    let s1 = String::from("hello");
    let res;
    {
        let s2 = String::from("hi");
        res = longest(&s1, &s2);
    }
    println!("{}", res);
}''',
        "asks": [
            "error[E0106]: missing lifetime specifier. I added <'a> everywhere and now it says s2 does not live long enough. explain lifetimes to me using this exact example",
            "How would I change the design so this compiles without restructuring main? Discuss returning String vs Cow vs lifetimes.",
        ],
    },
    {
        "lang": "rust",
        "code": '''use std::collections::HashMap;

fn count_words(text: &str) -> HashMap<String, usize> {
    let mut map = HashMap::new();
    for w in text.split(" ") {
        let w = w.to_lowercase();
        if map.contains_key(&w) {
            let c = map.get(&w).unwrap();
            map.insert(w, c + 1);
        } else {
            map.insert(w, 1);
        }
    }
    map
}''',
        "asks": [
            "borrow checker says cannot borrow `map` as mutable because it is also borrowed as immutable. how do I fix it idiomatically?",
            "Make this idiomatic Rust (entry API, proper word splitting that ignores punctuation) and write unit tests. Then return the top 10 words sorted by count.",
        ],
    },
    {
        "lang": "rust",
        "code": '''use std::thread;

fn main() {
    let mut data = vec![1, 2, 3];
    let handles: Vec<_> = (0..3).map(|i| {
        thread::spawn(|| {
            data[i] += 1;
        })
    }).collect();
    for h in handles { h.join().unwrap(); }
    println!("{:?}", data);
}''',
        "asks": [
            "closure may outlive the current function, but it borrows `data`. I don't want to clone. what are my options? scoped threads? Arc<Mutex>?",
            "Rewrite this with std::thread::scope and then with rayon, and explain the tradeoffs.",
        ],
    },
    {
        "lang": "rust",
        "code": '''#[derive(Debug)]
enum Shape { Circle(f64), Rect(f64, f64) }

trait Area { fn area(&self) -> f64; }

impl Area for Shape {
    fn area(&self) -> f64 {
        match self {
            Shape::Circle(r) => 3.14 * r * r,
        }
    }
}''',
        "asks": [
            "non-exhaustive patterns: `&Shape::Rect(_, _)` not covered. ok but what's the better design here, enum or trait objects, if I'll add more shapes later?",
            "Add a Triangle variant, use std::f64::consts::PI, implement Display, and write a function that returns the shape with the largest area from a slice (handle the empty slice).",
        ],
    },
    {
        "lang": "go",
        "code": '''func worker(jobs <-chan int, results chan<- int) {
    for j := range jobs {
        results <- j * 2
    }
}

func main() {
    jobs := make(chan int)
    results := make(chan int)
    for w := 0; w < 3; w++ {
        go worker(jobs, results)
    }
    for i := 0; i < 10; i++ {
        jobs <- i
    }
    close(jobs)
    for r := range results {
        fmt.Println(r)
    }
}''',
        "asks": [
            "fatal error: all goroutines are asleep - deadlock! where is the deadlock exactly?",
            "Fix the deadlock using a WaitGroup and add context cancellation so I can stop the workers early. explain each change",
        ],
    },
    {
        "lang": "go",
        "code": '''type Server struct {
    cache map[string]string
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
    key := r.URL.Query().Get("k")
    if v, ok := s.cache[key]; ok {
        fmt.Fprint(w, v)
        return
    }
    v := expensiveLookup(key)
    s.cache[key] = v
    fmt.Fprint(w, v)
}''',
        "asks": [
            "In production this panics with 'concurrent map writes'. What's the best fix: sync.Mutex, RWMutex or sync.Map? Also how do I stop 100 concurrent requests for the same key all calling expensiveLookup?",
            "Write a table-driven test for this handler with httptest, and run it with -race. Show how you'd restructure so the lookup can be mocked.",
        ],
    },
    {
        "lang": "go",
        "code": '''func ReadConfig(path string) (*Config, error) {
    f, err := os.Open(path)
    if err != nil {
        return nil, err
    }
    var c Config
    if err := json.NewDecoder(f).Decode(&c); err != nil {
        return nil, err
    }
    return &c, nil
}''',
        "asks": [
            "code review please. I think I leak the file handle? and the errors don't say which file failed",
            "Extend this to read YAML or JSON based on the extension, validate required fields, and wrap errors with %w so callers can use errors.Is(err, fs.ErrNotExist).",
        ],
    },
    {
        "lang": "java",
        "code": '''public class UserService {
    private List<User> users = new ArrayList<>();

    public void removeInactive() {
        for (User u : users) {
            if (!u.isActive()) {
                users.remove(u);
            }
        }
    }
}''',
        "asks": [
            "Throws java.util.ConcurrentModificationException. Why, and what's the cleanest fix in Java 17?",
            "Refactor this class: make it thread-safe, inject the repository instead of keeping a list, and write a JUnit 5 test for removeInactive.",
        ],
    },
    {
        "lang": "java",
        "code": '''@RestController
@RequestMapping("/orders")
public class OrderController {
    @Autowired
    private OrderRepository repo;

    @PostMapping
    public Order create(@RequestBody Order order) {
        order.setStatus("NEW");
        return repo.save(order);
    }

    @GetMapping("/{id}")
    public Order get(@PathVariable Long id) {
        return repo.findById(id).get();
    }
}''',
        "asks": [
            "Spring Boot returns a 500 with NoSuchElementException when the order doesn't exist. How do I make it a clean 404 with a JSON error body for the whole app?",
            "Review this controller. I'd like constructor injection, DTOs instead of exposing the entity, @Valid validation, and a MockMvc test.",
        ],
    },
    {
        "lang": "java",
        "code": '''public static String reverseWords(String s) {
    String[] parts = s.split(" ");
    String out = "";
    for (int i = parts.length - 1; i >= 0; i--) {
        out += parts[i] + " ";
    }
    return out;
}''',
        "asks": [
            "this leaves a trailing space and breaks on double spaces. also someone told me string concat in a loop is O(n^2)? fix + explain complexity",
        ],
    },
    {
        "lang": "csharp",
        "code": '''public async Task<List<Product>> GetProducts()
{
    var list = new List<Product>();
    foreach (var id in _ids)
    {
        var p = _client.GetAsync($"products/{id}").Result;
        list.Add(await p.Content.ReadFromJsonAsync<Product>());
    }
    return list;
}''',
        "asks": [
            "Our ASP.NET app hangs under load and I suspect this method. Is .Result a problem here? Rewrite it correctly with Task.WhenAll and a concurrency limit.",
        ],
    },
    {
        "lang": "c",
        "code": '''char *copy_string(const char *src) {
    char *dst = malloc(strlen(src));
    strcpy(dst, src);
    return dst;
}

int main(void) {
    char *s = copy_string("hello");
    printf("%s\\n", s);
    return 0;
}''',
        "asks": [
            "valgrind says invalid write of size 1. I don't see it. also is there a leak?",
            "What are all the bugs here? Explain each one the way you'd explain it in a code review for a junior dev, then give the fixed version.",
        ],
    },
    {
        "lang": "cpp",
        "code": '''std::vector<int> v = {1, 2, 3, 4, 5};
for (auto it = v.begin(); it != v.end(); ++it) {
    if (*it % 2 == 0) {
        v.erase(it);
    }
}''',
        "asks": [
            "segfaults sometimes, works other times. iterator invalidation? show me the erase-remove idiom and the C++20 way",
        ],
    },
    {
        "lang": "sql",
        "code": '''SELECT c.name, SUM(o.total) AS revenue
FROM customers c
LEFT JOIN orders o ON o.customer_id = c.id
WHERE o.created_at >= '2024-01-01'
GROUP BY c.name
ORDER BY revenue DESC;''',
        "asks": [
            "customers with no orders don't show up even though I used LEFT JOIN. why??",
            "Fix this, and also show the top 3 customers per country by revenue using a window function (Postgres). customers has a country column.",
        ],
    },
    {
        "lang": "sql",
        "code": '''SELECT *
FROM events
WHERE DATE(created_at) = '2024-05-01'
  AND lower(event_type) = 'click'
ORDER BY created_at DESC
LIMIT 50;''',
        "asks": [
            "events has 400M rows and there's an index on created_at and on event_type but this query takes 40 seconds. EXPLAIN shows a seq scan. How do I make it use an index?",
            "rewrite for MySQL 8 and Postgres 15 and explain what indexes you'd create for each, including the tradeoff of a functional index",
        ],
    },
    {
        "lang": "sql",
        "code": '''CREATE TABLE accounts (id serial primary key, balance numeric);

-- transfer
UPDATE accounts SET balance = balance - 100 WHERE id = 1;
UPDATE accounts SET balance = balance + 100 WHERE id = 2;''',
        "asks": [
            "If the app crashes between the two updates money disappears. How should this be written, and what isolation level do I need so two transfers at once can't overdraw account 1?",
        ],
    },
    {
        "lang": "bash",
        "code": '''#!/bin/bash
for f in $(ls *.jpg); do
  convert $f -resize 50% small_$f
done''',
        "asks": [
            "breaks on filenames with spaces. how do I make it robust? and parallel would be nice, there are 10k images",
            "Rewrite this properly (set -euo pipefail, quoting, skip already converted files, put output in a subfolder) and explain each line.",
        ],
    },
    {
        "lang": "bash",
        "code": '''#!/bin/sh
BACKUP_DIR=/backups
DATE=`date +%F`
pg_dump mydb > $BACKUP_DIR/mydb-$DATE.sql
find $BACKUP_DIR -mtime +7 -exec rm {} \\;
echo "done"''',
        "asks": [
            "the cron job says done even when pg_dump failed, so we had a week of empty backups. make it fail loudly and compress the dumps, keep 14 days",
        ],
    },
    {
        "lang": "yaml",
        "code": '''apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: api
          image: registry.example.com/api:latest
          ports:
            - containerPort: 8080''',
        "asks": [
            "kubectl apply gives: `selector` does not match template `labels`. fix it and tell me what else is wrong with this deployment for production (probes, resources, the latest tag...)",
            "Add readiness and liveness probes on /healthz, resource requests/limits, a Service and an HPA scaling on CPU at 70%. Explain the probe timings you pick.",
        ],
    },
    {
        "lang": "yaml",
        "code": '''apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /api
        pathType: Exact
        backend:
          service:
            name: api-svc
            port:
              number: 80''',
        "asks": [
            "requests to shop.example.com/api/products give 404 from nginx ingress but /api works. whats wrong with my ingress",
            "I also need TLS with cert-manager and a rewrite so /api/x reaches the service as /x. update the manifest and explain the annotations",
        ],
    },
    {
        "lang": "yaml",
        "code": '''name: CI
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm install
      - run: npm test
      - run: npm run deploy
        env:
          TOKEN: ${{ secrets.DEPLOY_TOKEN }}''',
        "asks": [
            "This deploys on every push to every branch, including PRs from forks?? Restructure the workflow so deploy only runs on main after tests pass, with npm caching and a matrix over node 18 and 20.",
        ],
    },
    {
        "lang": "dockerfile",
        "code": '''FROM python:3.12
COPY . /app
WORKDIR /app
RUN pip install -r requirements.txt
CMD python app.py''',
        "asks": [
            "the image is 1.1GB and every code change reinstalls all dependencies. optimise it (layer caching, slim base, multi stage, non-root user) and explain why each change helps",
        ],
    },
    {
        "lang": "hcl",
        "code": '''resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
  acl    = "public-read"
}

resource "aws_instance" "web" {
  count         = 3
  ami           = "ami-123456"
  instance_type = "t3.micro"
}''',
        "asks": [
            "terraform plan warns that acl is deprecated, and our security team flagged this bucket. rewrite it for AWS provider v5 with the bucket private, encrypted and versioned, and explain what changed",
        ],
    },
    {
        "lang": "python",
        "code": '''def binary_search(arr, target):
    lo, hi = 0, len(arr)
    while lo < hi:
        mid = (lo + hi) // 2
        if arr[mid] < target:
            lo = mid
        else:
            hi = mid
    return lo''',
        "asks": [
            "this loops forever for some inputs. walk me through a case where it does and fix it",
            "Prove the fixed version is correct with a loop invariant, and give its time complexity.",
        ],
    },
    {
        "lang": "python",
        "code": '''def fib(n):
    if n <= 1:
        return n
    return fib(n - 1) + fib(n - 2)

print(fib(50))''',
        "asks": [
            "this never finishes. why is it so slow? give me memoized, iterative and matrix exponentiation versions and the complexity of each",
        ],
    },
    {
        "lang": "python",
        "code": '''import re

def is_valid_email(s):
    return re.match(r"[a-z]+@[a-z]+\\.com", s) is not None

assert is_valid_email("bob@example.com")
assert not is_valid_email("bob@example.com.evil.org")''',
        "asks": [
            "the second assert fails. also it rejects capital letters and digits. what's a sane regex, or should I not use regex at all for this?",
        ],
    },
    {
        "lang": "python",
        "code": '''import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(10):
    for x, y in loader:
        out = model(x)
        loss = loss_fn(nn.functional.softmax(out, dim=1), y)
        loss.backward()
        opt.step()''',
        "asks": [
            "my loss barely goes down and accuracy is stuck around 11%. what am I doing wrong in the training loop?",
            "Fix the training loop and add validation each epoch, moving to GPU if available, and early stopping. Explain the softmax issue mathematically.",
        ],
    },
    {
        "lang": "python",
        "code": '''def merge_intervals(intervals):
    result = []
    for start, end in intervals:
        if result and start <= result[-1][1]:
            result[-1][1] = end
        else:
            result.append([start, end])
    return result

print(merge_intervals([[1, 10], [2, 3], [8, 12], [0, 1]]))''',
        "asks": [
            "gives [[1, 3], [8, 12], [0, 1]], clearly wrong. find both bugs",
        ],
    },
    {
        "lang": "javascript",
        "code": '''const express = require("express");
const app = express();

app.use(express.json());

app.post("/upload", (req, res) => {
  const fs = require("fs");
  fs.writeFileSync("./uploads/" + req.body.filename, req.body.content);
  res.send("ok");
});''',
        "asks": [
            "Is this safe to put on the internet? what could an attacker do with filename, and how do I fix it",
        ],
    },
    {
        "lang": "javascript",
        "code": '''function debounce(fn, ms) {
  let t;
  return function () {
    clearTimeout(t);
    t = setTimeout(fn, ms);
  };
}

input.addEventListener("input", debounce(function () {
  search(this.value);
}, 300));''',
        "asks": [
            "this.value is undefined inside the debounced function. why? fix the debounce so it forwards this and the arguments, and add a cancel() method",
        ],
    },
    {
        "lang": "text",
        "code": '''Traceback (most recent call last):
  File "/app/worker.py", line 42, in process
    payload = json.loads(msg.body)
  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads
    return _default_decoder.decode(s)
  File "/usr/lib/python3.11/json/decoder.py", line 337, in decode
    obj, end = self.raw_decode(s, idx=_w(s, 0).end())
  File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode
    raise JSONDecodeError("Expecting value", s, err.value) from None
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)''',
        "asks": [
            "our queue worker crashes with this every few hours and then the whole consumer stops. msg.body is bytes from RabbitMQ. how do I find out what the bad messages are and make the worker survive them (dead letter queue?)",
        ],
    },
    {
        "lang": "text",
        "code": '''Exception in thread "main" java.lang.NullPointerException: Cannot invoke "String.length()" because "name" is null
	at com.acme.billing.InvoiceFormatter.pad(InvoiceFormatter.java:88)
	at com.acme.billing.InvoiceFormatter.formatLine(InvoiceFormatter.java:52)
	at com.acme.billing.InvoiceService.render(InvoiceService.java:117)
	at com.acme.billing.Main.main(Main.java:23)''',
        "asks": [
            "Only happens for some customers. The name comes from a DB column that's nullable. What's the right way to handle this in Java 17, Optional or null checks or fixing the data? walk me through how you'd debug it",
        ],
    },
    {
        "lang": "text",
        "code": '''thread 'tokio-runtime-worker' panicked at 'Cannot start a runtime from within a runtime. This happens because a function (like `block_on`) attempted to block the current thread while the thread is being used to drive asynchronous tasks.', src/db.rs:31:10''',
        "asks": [
            "I call a sync function from an axum handler and inside it I do Runtime::new().block_on(query()). how am I supposed to call async code from sync code in tokio?",
        ],
    },
    {
        "lang": "text",
        "code": '''Warning: Each child in a list should have a unique "key" prop.
Error: Hydration failed because the initial UI does not match what was rendered on the server.
    at throwOnHydrationMismatch (react-dom.development.js:12507)
    at tryToClaimNextHydratableInstance (react-dom.development.js:12535)''',
        "asks": [
            "Next.js 14 app router. the page shows the current time with new Date().toLocaleTimeString() in the component. why the hydration error and how do I fix it properly?",
        ],
    },
    {
        "lang": "text",
        "code": '''Events:
  Type     Reason     Age                From     Message
  ----     ------     ----               ----     -------
  Normal   Pulled     2m (x5 over 4m)    kubelet  Container image "api:1.4.2" already present on machine
  Warning  BackOff    1m (x12 over 4m)   kubelet  Back-off restarting failed container api in pod api-7d9f8-xk2lp
$ kubectl logs api-7d9f8-xk2lp --previous
Error: listen EADDRINUSE: address already in use :::8080''',
        "asks": [
            "pod is in CrashLoopBackOff. the container runs a node app and a sidecar. how do I figure out what is already on 8080 and fix it?",
        ],
    },
    {
        "lang": "text",
        "code": '''django.db.utils.OperationalError: (1205, 'Lock wait timeout exceeded; try restarting transaction')''',
        "asks": [
            "we get this a few times a day on MySQL during a nightly import that runs while users are active. how do I find which queries hold the locks and restructure the import to avoid it?",
        ],
    },
    {
        "lang": "text",
        "code": '''$ cargo build
error[E0277]: `Rc<RefCell<Node>>` cannot be sent between threads safely
   --> src/main.rs:40:5
    |
40  |     tokio::spawn(async move {
    |     ^^^^^^^^^^^^ `Rc<RefCell<Node>>` cannot be sent between threads safely''',
        "asks": [
            "i have a tree of Rc<RefCell<Node>> and want to process it in a tokio task. do i have to rewrite everything with Arc<Mutex>? what are the alternatives (arena, indices)?",
        ],
    },
    {
        "lang": "python",
        "code": '''@app.route("/report")
def report():
    rows = db.execute("SELECT * FROM sales").fetchall()
    out = io.StringIO()
    w = csv.writer(out)
    for r in rows:
        w.writerow(r)
    return Response(out.getvalue(), mimetype="text/csv")''',
        "asks": [
            "The sales table has 5 million rows and this endpoint gets the container OOM-killed. How do I stream the CSV from Flask without loading everything into memory?",
        ],
    },
    {
        "lang": "go",
        "code": '''func Sum(nums []int) int {
    total := 0
    var wg sync.WaitGroup
    for _, n := range nums {
        wg.Add(1)
        go func() {
            total += n
            wg.Done()
        }()
    }
    wg.Wait()
    return total
}''',
        "asks": [
            "gives a different answer every run. is it the loop variable thing or the data race or both? which Go version changed the loop semantics?",
        ],
    },
    {
        "lang": "kotlin",
        "code": '''class MainViewModel : ViewModel() {
    val items = MutableLiveData<List<Item>>()

    fun load() {
        GlobalScope.launch {
            val data = api.fetchItems()
            items.value = data
        }
    }
}''',
        "asks": [
            "app crashes with 'Cannot invoke setValue on a background thread'. fix it the right way with viewModelScope and StateFlow, and explain why GlobalScope is bad here",
        ],
    },
    {
        "lang": "php",
        "code": '''<?php
$id = $_GET['id'];
$result = mysqli_query($conn, "SELECT * FROM products WHERE id = $id");
while ($row = mysqli_fetch_assoc($result)) {
    echo "<h1>" . $row['name'] . "</h1>";
}''',
        "asks": [
            "inherited this legacy PHP. i know it's bad but what exactly is wrong (I count SQL injection and XSS?) and what's the minimal safe rewrite with PDO",
        ],
    },
    {
        "lang": "python",
        "code": '''# settings.py
DEBUG = True
ALLOWED_HOSTS = ["*"]
SECRET_KEY = "django-insecure-8f3k2..."
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}''',
        "asks": [
            "We're about to deploy this Django project to production on a VM with Postgres and gunicorn behind nginx. What do I need to change in settings and how do I split dev/prod settings cleanly?",
        ],
    },
    {
        "lang": "javascript",
        "code": '''const total = cart.items.reduce((sum, item) => sum + item.price * item.qty);
console.log(total.toFixed(2));''',
        "asks": [
            "prints [object Object]... something. and sometimes 0.30000000000000004 shows up in other totals. explain both problems and how to handle money in JS",
        ],
    },
    {
        "lang": "python",
        "code": '''import asyncio

async def main():
    tasks = [fetch(u) for u in urls]
    for t in tasks:
        await t

asyncio.run(main())''',
        "asks": [
            "this is no faster than doing them one by one. why? also what's the difference between gather, TaskGroup and as_completed, and which should I use if I want to cancel everything on the first failure?",
        ],
    },
    {
        "lang": "lua",
        "code": '''function envoy_on_request(handle)
  local auth = handle:headers():get("authorization")
  if auth == nil then
    handle:respond({[":status"] = "401"}, "no auth")
  end
  handle:logInfo("token: " .. auth)
end''',
        "asks": [
            "Envoy Lua filter. when the header is missing envoy logs a script error after sending the 401. why? and is logging the token a problem? fix it",
        ],
    },
    {
        "lang": "python",
        "code": '''def parse_duration(s):
    # "1h30m", "45s", "2h"
    total = 0
    num = ""
    for ch in s:
        if ch.isdigit():
            num += ch
        elif ch == "h":
            total += int(num) * 3600
        elif ch == "m":
            total += int(num) * 60
        elif ch == "s":
            total += int(num)
    return total''',
        "asks": [
            "parse_duration('1h30m') returns 48600 instead of 5400. find the bug, then make it reject garbage like '5x' or 'h' with a ValueError and write pytest parametrized tests",
        ],
    },
]

FENCE_LANG = {"jsx": "jsx", "tsx": "tsx", "text": "", "hcl": "hcl", "dockerfile": "dockerfile"}
