"""Label tier: production-style classification and extraction prompts. Written for this project.

Each task has a few instruction wordings (how real systems phrase them: a system-style line, an
instruction/input block, a JSON contract) and its own inputs. The generator gives every input one
wording, so an input appears once. Some inputs hold code, stack traces or maths on purpose: the
output asked for is still one label or a short span, which is what makes them `label`.
"""

# Every task: (category, instructions, inputs). An instruction holds {labels} and/or {input}.
TICKET_LABELS = "billing, technical, account, shipping, other"
TICKETS = [
    "I was charged twice for my subscription this month, please refund one of them.",
    "The app crashes every time I try to upload a photo on Android 14.",
    "I can't log in, it says my password is wrong but I just reset it.",
    "my package says delivered but it's not here. order #48213",
    "How do I change the email address on my account?",
    "Your invoice shows VAT but we're a registered business in Ireland, can you reissue it?",
    "The export to CSV button does nothing in Firefox.",
    "Do you ship to Norway? and how long does it take",
    "Please delete my account and all my data.",
    "I was promised a discount code after the survey and never got it.",
    "Getting error 502 when calling your API since 10:00 UTC.",
    "the tracking number you sent doesn't work on the courier's website",
    "Can I switch from monthly to annual billing and get the difference credited?",
    "Two-factor codes aren't arriving by SMS anymore.",
    "Hi, just wanted to say your support team was amazing last week, thanks!",
    "The parcel arrived but the box was crushed and one glass is broken.",
    "webhook signatures fail verification after you rotated keys yesterday",
    "Why did my card get declined when I have enough money?",
    "I want to add a second user to our team plan.",
    "Is there a student discount?",
    "Sync between the desktop app and the phone stopped working after the update.",
    "I ordered the blue one and received the red one.",
    "Someone logged into my account from another country, I didn't do that.",
    "Our SSO login via Okta returns 'invalid audience'.",
    "Can you send me a receipt for order 99120 with our company name on it?",
]
TICKET_INSTRUCTIONS = [
    "System: You are a support ticket router. Reply with exactly one of: {labels}.\nUser: {input}",
    "Classify the customer message into one category ({labels}). Output the category only.\n\nMessage: {input}",
    '### Instruction\nAssign the ticket to a queue. Allowed values: {labels}.\nRespond as JSON: {{"queue": "<value>"}}\n\n### Ticket\n{input}',
    "Ticket: \"{input}\"\nCategory ({labels}):",
]

INTENT_LABELS = "check_balance, transfer_money, report_lost_card, open_account, loan_inquiry, talk_to_human"
INTENTS = [
    "how much money do i have left",
    "send 50 quid to my brother",
    "I think I left my debit card at the restaurant last night",
    "I'd like to open a savings account for my daughter",
    "what rate would I get on a 10k personal loan",
    "can I speak to an actual person please",
    "move 200 from savings to current",
    "whats my balance on the joint account",
    "my card was stolen on the train",
    "agent",
    "Do you offer mortgages for first time buyers?",
    "pay my rent to the landlord account, same as last month",
]
SMART_HOME_LABELS = "lights_on, lights_off, set_temperature, play_music, set_alarm, weather_query"
SMART_HOME = [
    "it's way too dark in here",
    "wake me up at 6:45 tomorrow",
    "make it 21 degrees in the living room",
    "put on some jazz",
    "kill the lights in the bedroom",
    "do I need an umbrella today?",
    "turn the heating up a bit",
    "play the album I was listening to yesterday",
    "will it snow this weekend in Denver",
    "switch on the kitchen lamp",
]
INTENT_INSTRUCTIONS = [
    "Identify the intent of the user utterance. Choose from: {labels}. Answer with the intent name only.\n\nUtterance: {input}",
    "system: intent classifier. labels = [{labels}]. return one label, nothing else.\nuser: {input}",
    "Utterance: {input}\nWhich intent is this? Options: {labels}\nIntent:",
]

SENTIMENT = [
    "Absolutely love these headphones, the battery lasts forever.",
    "Arrived late and the zip broke on the first day. Not buying again.",
    "It's fine. Does what it says, nothing special.",
    "The hotel staff were lovely but the room smelled of smoke.",
    "worst customer service i have ever experienced, 40 min on hold",
    "Exceeded my expectations, my kids play with it every day!",
    "Meh. The colour is nicer in the photos.",
    "The update fixed the bug I reported, thanks team!!",
    "I wanted to like this restaurant, but the food was cold and overpriced.",
    "Not bad for the price, though the instructions were useless.",
    "This is the third time my order has been wrong. Unbelievable.",
    "Great film, a bit long in the middle but the ending made up for it.",
    "Delivery was quick, product as described.",
    "Honestly the new interface is a mess, I can't find anything.",
    "Five stars. Would recommend to anyone with a sensitive stomach.",
    "the battery died after two weeks lol",
    "Perfect gift for my mum, she cried happy tears.",
    "Support replied within an hour and solved it. Impressed.",
    "Ok product but shipping cost more than the item.",
    "Do not stay here. Bed bugs.",
]
SENTIMENT_INSTRUCTIONS = [
    "What is the sentiment of this review? Answer positive, negative or neutral.\n\nReview: {input}",
    "Classify the sentiment (positive/negative/neutral) of the following text. Output one word.\n{input}",
    'Return JSON {{"sentiment": "positive"|"negative"|"neutral"}} for this customer comment:\n"{input}"',
    "Review: {input}\nRating (1-5 stars), digit only:",
    "system: You label app store reviews as POSITIVE, NEGATIVE or MIXED. Reply with the label.\nuser: {input}",
]

LANGUAGES = [
    "Bonjour, je voudrais annuler ma commande, s'il vous plaît.",
    "Können Sie mir sagen, wann das Paket ankommt?",
    "¿Dónde está la estación de tren más cercana?",
    "Obrigado pela ajuda, o problema foi resolvido.",
    "Vorrei prenotare un tavolo per quattro persone stasera.",
    "Ik heb mijn wachtwoord vergeten en kan niet inloggen.",
    "Dzień dobry, mam problem z fakturą za ostatni miesiąc.",
    "Siparişim hâlâ gelmedi, ne zaman gelecek?",
    "Jag vill byta till en annan prenumeration.",
    "注文した商品がまだ届いていません。",
    "Saya ingin mengubah alamat pengiriman saya.",
    "Мне нужно изменить номер телефона в аккаунте.",
    "Hvor kan jeg finde min kvittering?",
    "Tôi muốn hủy đăng ký dịch vụ này.",
    "Kiitos nopeasta toimituksesta!",
]
LANGUAGE_INSTRUCTIONS = [
    "Detect the language of the text. Reply with the ISO 639-1 code only.\n\nText: {input}",
    "Which language is this message written in? One word.\n{input}",
    'Identify the language and return {{"lang": "<code>"}}.\nInput: {input}',
]

CODE_LANGUAGE = [
    "fn main() { println!(\"{}\", 1 + 2); }",
    "SELECT id, name FROM users WHERE active = 1;",
    "def add(a, b):\n    return a + b",
    "const x = arr.map(v => v * 2);",
    "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hi\") }",
    "public static void main(String[] args) { System.out.println(\"hi\"); }",
    "#include <stdio.h>\nint main() { printf(\"hi\\n\"); }",
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web",
    "for f in *.log; do gzip \"$f\"; done",
    "<?php echo strtoupper($name); ?>",
]
CODE_LANGUAGE_INSTRUCTIONS = [
    "What programming or config language is this snippet? Answer with the language name only.\n\n```\n{input}\n```",
    "Tag the snippet with one of: python, javascript, rust, go, java, c, sql, yaml, shell, php. Output the tag.\n{input}",
]

EXTRACTION = [
    ("the customer's email address", "Hi, I'm Maria Lopez, you can reach me at maria.lopez82@example.org or on 0612 345 678. My order hasn't arrived."),
    ("the order number", "Hello, my order ORD-2024-88131 was supposed to arrive on Monday. Can you check? Thanks, Dev"),
    ("the invoice total, with currency", "INVOICE #4471\nDate: 03/02/2025\nConsulting, 12h x 95.00 EUR\nSubtotal 1,140.00 EUR\nVAT 21% 239.40 EUR\nTotal due 1,379.40 EUR"),
    ("the check-in date", "Booking confirmed! Guest: T. Nakamura. Check-in: 14 August 2025, check-out: 18 August 2025. Room: Deluxe Twin."),
    ("the name of the person who signed", "Please find the signed contract attached.\n\nKind regards,\nJonas Weber\nHead of Procurement, Albrecht GmbH"),
    ("the phone number", "Call me back on +44 7700 900123 after 5pm, it's about the boiler repair."),
    ("the flight number", "Your flight LH 2034 from Munich to Lisbon departs at 07:15 from Terminal 2. Boarding closes 20 minutes before departure."),
    ("the error code", "Printer shows 'E-53 paper path blocked' and then reboots itself, I've cleared all the paper already."),
    ("the company name", "We at Northwind Traders are looking for a supplier of recycled packaging for about 20k units a month."),
    ("the amount requested", "Dear team, I'd like to request a refund of $42.99 for the duplicate charge on 4 March."),
    ("the tracking number", "Your parcel is on its way! Track it with number 1Z999AA10123456784 on the carrier website."),
    ("the IBAN", "Please transfer the deposit to IBAN DE89 3704 0044 0532 0130 00, reference 'Flat 3B'."),
    ("the meeting time", "Can we move our call to Thursday at 3:30pm CET? Wednesday doesn't work for me anymore."),
    ("the product SKU", "Return request: SKU 88-XL-BLU, size too big, unworn, tags still on."),
    ("the patient's date of birth", "Referral letter: Patient John Carter, DOB 12/07/1961, presents with recurring chest pain on exertion."),
    ("the HTTP status code", "2025-03-02T10:14:55Z ERROR upstream request failed: status=503 path=/v1/charges latency_ms=30012 retry=3"),
    ("the exception type", "Traceback (most recent call last):\n  File \"app.py\", line 12, in <module>\n    main()\n  File \"app.py\", line 8, in main\n    value = int(cfg['port'])\nKeyError: 'port'"),
    ("the failing test's name", "=================== FAILURES ===================\n___________ test_refund_rounds_to_cents ___________\n\n    def test_refund_rounds_to_cents():\n>       assert refund(10.005) == 10.01\nE       assert 10.0 == 10.01\n\ntests/test_billing.py:41: AssertionError"),
    ("the version number that introduced the bug", "Since upgrading from 2.3.1 to 2.4.0 the CLI ignores the --quiet flag. 2.3.1 was fine."),
    ("the city in the shipping address", "Ship to: Ana Ruiz, Calle Mayor 12, 3ºB, 28013 Madrid, Spain"),
]
EXTRACTION_INSTRUCTIONS = [
    "Extract {field} from the text below. Return only the value, or NONE if it is missing.\n\n{input}",
    "From this message, pull out {field}. Output just that, no explanation.\n---\n{input}\n---",
    'system: You extract fields. Reply with JSON {{"value": ...}} holding {field}, or null.\nuser: {input}',
]

PII = [
    "Hi it's Sarah Kim, my card ending 4421 was charged twice, my address is 22 Elm Street, Leeds LS6 2AB.",
    "The weather was great at the team offsite, thanks everyone for coming.",
    "Please call Dr. Patel at 555-0142 about my results.",
    "Order 5521 was shipped on time.",
    "my SSN is 078-05-1120 and I need to update my tax form",
    "Meeting notes: discussed Q3 roadmap, no decisions yet.",
    "Send the keys to jmiller@example.net, he's picking up the van.",
    "The build failed on the arm64 runner again.",
]
PII_INSTRUCTIONS = [
    "Does the following text contain personal data (names with contact details, phone numbers, emails, ID numbers, card numbers, addresses)? Answer yes or no.\n\n{input}",
    "PII check. Reply CONTAINS_PII or CLEAN.\nText: {input}",
]

JSON_FIELD = [
    ('customer.address.postcode', '{"id": 9912, "customer": {"name": "L. Okafor", "address": {"street": "4 Mill Lane", "postcode": "BS1 4DJ", "country": "GB"}}, "items": 3}'),
    ('status', '{"job": "nightly-backup", "started": "2025-01-10T02:00:00Z", "status": "failed", "exit_code": 2}'),
    ('the total of the order', '{"order": {"id": "A-17", "lines": [{"sku": "X1", "qty": 2}], "total": {"amount": 59.8, "currency": "USD"}}}'),
    ('the email of the first reviewer', '{"pr": 311, "reviewers": [{"login": "ktanaka", "email": "k.tanaka@example.com"}, {"login": "amir", "email": "amir@example.com"}]}'),
    ('the image tag', '{"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "registry.example.com/api:1.8.3"}]}}}}'),
    ('error.message', '{"error": {"type": "invalid_request_error", "message": "max_tokens is too large", "code": null}}'),
    ('the user id', '{"event": "login", "ts": 1735689600, "user": {"id": "u_48151623", "plan": "pro"}, "ip": "203.0.113.7"}'),
    ('the number of replicas', 'spec:\n  replicas: 4\n  selector:\n    matchLabels:\n      app: worker'),
]
JSON_FIELD_INSTRUCTIONS = [
    "Return the value of `{field}` from this JSON. Output only the value.\n\n{input}",
    "What is {field} in the document below? Just the value.\n{input}",
    'Extract {field}. Respond as {{"answer": <value>}} and nothing else.\n```\n{input}\n```',
]

YES_NO = [
    ("Does the customer ask for a refund?", "The shoes are nice but too small. I'd like my money back please."),
    ("Does the customer ask for a refund?", "Can you tell me when the new colours will be in stock?"),
    ("Is this message about a delivery problem?", "The courier left my parcel in the rain and everything inside is soaked."),
    ("Is this SQL statement read-only?", "SELECT name, price FROM products WHERE price > 100 ORDER BY price;"),
    ("Is this SQL statement read-only?", "UPDATE users SET role = 'admin' WHERE id = 7;"),
    ("Does this log line indicate an error?", "2025-02-01 12:00:01 INFO request completed status=200 duration=34ms"),
    ("Does this log line indicate an error?", "2025-02-01 12:00:03 WARN retrying connection to db (attempt 3/5): connection refused"),
    ("Do these two questions ask the same thing?", "Q1: How do I reset my password?\nQ2: I forgot my password, how can I change it?"),
    ("Do these two questions ask the same thing?", "Q1: How much does shipping to Canada cost?\nQ2: How long does shipping to Canada take?"),
    ("Is the answer supported by the passage?", "Passage: The museum is open Tuesday to Sunday from 10:00 to 18:00, and closed on Mondays.\nAnswer: The museum is open on Mondays."),
    ("Does the email mention a deadline?", "Hi all, please send me your slides before Thursday noon so I can merge them. Thanks!"),
    ("Is this review written about a hotel?", "The pasta was overcooked but the tiramisu was the best I've had."),
    ("Does this commit message describe a bug fix?", "Fix off-by-one in pagination when the last page is full"),
    ("Does this commit message describe a bug fix?", "Add dark mode toggle to settings"),
    ("Does this function have a side effect?", "def area(r):\n    return 3.14159 * r * r"),
    ("Is the user asking to cancel their subscription?", "how do i stop being charged every month, i dont use the app anymore"),
    ("Does this text contain a question?", "I tried restarting the router twice and it still blinks orange."),
    ("Is this number a valid ISBN-10?", "0-306-40615-2"),
]
YES_NO_INSTRUCTIONS = [
    "{question} Answer yes or no.\n\n{input}",
    "Answer with YES or NO only.\nQuestion: {question}\nInput: {input}",
    "{input}\n\n{question} (yes/no)",
]

PICK_ONE = [
    ("Which department should handle this request?", "A) HR  B) IT  C) Finance  D) Facilities", "My laptop won't connect to the office VPN since this morning."),
    ("Which department should handle this request?", "A) HR  B) IT  C) Finance  D) Facilities", "The air conditioning on the third floor is leaking onto the desks."),
    ("Which department should handle this request?", "A) HR  B) IT  C) Finance  D) Facilities", "I haven't been reimbursed for my travel expenses from March."),
    ("Which priority fits this incident?", "P1 (outage), P2 (degraded), P3 (minor), P4 (question)", "Checkout is down for all customers in the EU region."),
    ("Which priority fits this incident?", "P1 (outage), P2 (degraded), P3 (minor), P4 (question)", "A typo in the footer of the pricing page."),
    ("Which priority fits this incident?", "P1 (outage), P2 (degraded), P3 (minor), P4 (question)", "Search results take 8 seconds to load instead of 1, but they work."),
    ("What is the best title for this paragraph?", "1. Saving energy at home  2. The history of light bulbs  3. How solar panels are made", "Switching to LED bulbs, sealing draughty windows and turning the thermostat down one degree can cut a household's energy bill noticeably."),
    ("Which product category does this item belong to?", "electronics / clothing / home & garden / toys / books", "Stainless steel garden hose reel with wall mount, 30 m capacity"),
    ("Which product category does this item belong to?", "electronics / clothing / home & garden / toys / books", "Wooden train set with 40 pieces, ages 3+"),
    ("Which team owns this alert?", "payments, search, identity, platform", "Alert: token refresh failures above 5% for the OAuth service"),
    ("Which answer is correct according to the passage?", "(a) in 1998 (b) in 2004 (c) in 2011", "Passage: The bridge, first proposed in 1998, opened to traffic in 2004 after six years of work, and was widened in 2011.\nQuestion: When did the bridge open?"),
    ("Which license does this header indicate?", "MIT, Apache-2.0, GPL-3.0, BSD-3-Clause", "Licensed under the Apache License, Version 2.0 (the \"License\"); you may not use this file except in compliance with the License."),
]
PICK_ONE_INSTRUCTIONS = [
    "{question}\nOptions: {options}\nReply with the option only.\n\n{input}",
    "{input}\n\n{question} Choose one: {options}",
]

TAGGING = [
    ("bug, feature, question, docs", "The install guide still mentions the old --legacy flag which was removed in 3.0."),
    ("bug, feature, question, docs", "Crash when opening a file with an emoji in its name on Windows."),
    ("bug, feature, question, docs", "Would be great to have an option to export charts as SVG."),
    ("bug, feature, question, docs", "Is it possible to run the server behind a corporate proxy?"),
    ("bug, feature, question, docs", "Stack overflow when a config file includes itself:\nthread 'main' has overflowed its stack\nfatal runtime error: stack overflow"),
    ("politics, sport, business, technology, health", "Shares in the chipmaker rose 9% after it raised its forecast for the year."),
    ("politics, sport, business, technology, health", "The striker scored twice as the home side came back from two goals down."),
    ("politics, sport, business, technology, health", "Parliament passed the budget by a narrow margin late on Wednesday night."),
    ("politics, sport, business, technology, health", "A new trial suggests a daily walk lowers blood pressure as much as some drugs."),
    ("politics, sport, business, technology, health", "The phone maker will stop updating models older than five years."),
    ("urgent, normal, low", "Server room temperature at 41C and rising, fans failing"),
    ("urgent, normal, low", "Could someone update the wiki page for the holiday schedule when you get a chance"),
    ("frontend, backend, database, infra, unknown", "The login button overlaps the logo on small screens."),
    ("frontend, backend, database, infra, unknown", "Deadlock detected while running the nightly migration on the orders table."),
    ("frontend, backend, database, infra, unknown", "Terraform apply fails: error creating EKS node group, insufficient capacity in eu-west-1b."),
]
TAGGING_INSTRUCTIONS = [
    "Tag the text with exactly one label from [{labels}]. Output the label only.\n\n{input}",
    "system: You assign one tag per item from this fixed set: {labels}.\nuser: {input}",
    'Label: one of {labels}. Output {{"label": "..."}}.\nText: {input}',
]

SPAM = [
    "Congratulations!! You've won a $1000 gift card. Click here to claim within 24h: bit.ly/xx",
    "Hi Tom, are we still on for lunch tomorrow at 1?",
    "URGENT: your account will be suspended. Verify your password at secure-login-update.example",
    "Your dentist appointment is confirmed for 14 May at 09:30. Reply C to cancel.",
    "Make $5000 a week from home!!! No experience needed, DM me",
    "The quarterly report is attached, let me know if you have questions.",
    "Dear friend, I am a prince and need your help to move 10 million dollars.",
    "Reminder: the office is closed on Monday for the bank holiday.",
    "cheap meds no prescription fast shipping best price",
    "Your package could not be delivered. Pay the 1.99 customs fee here to reschedule.",
    "Thanks for the feedback on my PR, I've pushed the changes.",
    "Hot singles in your area want to meet you",
]
SPAM_INSTRUCTIONS = [
    "Is this message spam? Answer spam or ham.\n\n{input}",
    "Classify as SPAM or NOT_SPAM. Output the class only.\nMessage: {input}",
    "system: You are an email filter. Reply with one word: spam, phishing or legitimate.\nuser: {input}",
]

MODERATION = [
    "You're an idiot and everyone at your company should be fired.",
    "I disagree with the decision, but I understand the reasons.",
    "Can you recommend a good book about the Second World War?",
    "If you don't refund me I'll find where you live.",
    "This product is garbage, total waste of money.",
    "Great stream today, thanks for the tips on the boss fight!",
]
MODERATION_INSTRUCTIONS = [
    "Moderation: label the comment as one of ok, insult, threat, spam. Reply with the label only.\n\n{input}",
    "Is this comment toxic? Answer yes or no.\n{input}",
]

TOPIC_QUESTIONS = [
    "How do I reverse a linked list in Java?",
    "What's the capital of Australia?",
    "Prove that the sum of two even numbers is even.",
    "Write me a poem about rain.",
    "Why is my Kubernetes pod stuck in Pending?",
    "What's a good gift for a 10 year old?",
    "Solve 3x + 5 = 20.",
    "Summarise this article about climate policy.",
]
TOPIC_INSTRUCTIONS = [
    "Route the user request to one of: coding, math, writing, general. Output the route name only.\n\nRequest: {input}",
    "Which kind of request is this? Answer with one of: code, math, creative, factual.\n{input}",
]

TASKS = [
    ("label-support-ticket", TICKET_INSTRUCTIONS, [{"labels": TICKET_LABELS, "input": t} for t in TICKETS]),
    ("label-intent", INTENT_INSTRUCTIONS, [{"labels": INTENT_LABELS, "input": t} for t in INTENTS]
     + [{"labels": SMART_HOME_LABELS, "input": t} for t in SMART_HOME]),
    ("label-sentiment", SENTIMENT_INSTRUCTIONS, [{"input": t} for t in SENTIMENT]),
    ("label-language-id", LANGUAGE_INSTRUCTIONS, [{"input": t} for t in LANGUAGES]),
    ("label-code-language", CODE_LANGUAGE_INSTRUCTIONS, [{"input": t} for t in CODE_LANGUAGE]),
    ("label-extraction", EXTRACTION_INSTRUCTIONS, [{"field": f, "input": t} for f, t in EXTRACTION]),
    ("label-pii", PII_INSTRUCTIONS, [{"input": t} for t in PII]),
    ("label-json-field", JSON_FIELD_INSTRUCTIONS, [{"field": f, "input": t} for f, t in JSON_FIELD]),
    ("label-yes-no", YES_NO_INSTRUCTIONS, [{"question": q, "input": t} for q, t in YES_NO]),
    ("label-pick-one", PICK_ONE_INSTRUCTIONS, [{"question": q, "options": o, "input": t} for q, o, t in PICK_ONE]),
    ("label-tagging", TAGGING_INSTRUCTIONS, [{"labels": lab, "input": t} for lab, t in TAGGING]),
    ("label-spam", SPAM_INSTRUCTIONS, [{"input": t} for t in SPAM]),
    ("label-moderation", MODERATION_INSTRUCTIONS, [{"input": t} for t in MODERATION]),
    ("label-request-type", TOPIC_INSTRUCTIONS, [{"input": t} for t in TOPIC_QUESTIONS]),
]
