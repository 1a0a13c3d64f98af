"""The default CLM program (PROGRAM.md) as pure data: department names and priorities, and one
``TemplateSpec`` per touchpoint code, with its call script or message body in English and Russian.

The scripts use the Django template language with these variables only, each as ``{{ var }}`` (dates may
take the ``date:"d.m.Y"`` filter): ``customer.first_name``, ``vehicle.make``, ``vehicle.model``,
``vehicle.plate``, ``forecast.next_due_on``, ``forecast.km_per_month``, ``dealership.name``,
``agent.first_name``, ``touchpoint.due_on``.

No Django imports: a data migration or fixture loads this into the admin-editable template table.
"""

from __future__ import annotations

from typing import Final

from contacts.core.plan_engine import TemplateSpec

#: Department code -> (name in English, name in Russian).
DEPARTMENTS: Final[dict[str, tuple[str, str]]] = {
    "service": ("Service", "Сервис"),
    "insurance": ("Insurance", "Страхование"),
    "sales": ("Sales", "Отдел продаж"),
    "trade_in": ("Trade-in", "Трейд-ин"),
    "call_centre": ("Call centre", "Колл-центр"),
    "manufacturer": ("Manufacturer (OEM)", "Производитель"),
    "parts": ("Parts and accessories", "Запчасти и аксессуары"),
}

#: Department code -> default priority rank (lower = more important). Service first: a late service call
#: loses the maintenance to a competitor; insurance has a hard renewal deadline; then sales and trade-in,
#: then relationship and survey contacts.
DEPARTMENT_PRIORITY: Final[dict[str, int]] = {
    "service": 1,
    "insurance": 2,
    "sales": 3,
    "trade_in": 4,
    "call_centre": 5,
    "manufacturer": 6,
    "parts": 7,
}

#: The variables a script may use.
SCRIPT_VARIABLES: Final[frozenset[str]] = frozenset(
    {
        "customer.first_name",
        "vehicle.make",
        "vehicle.model",
        "vehicle.plate",
        "forecast.next_due_on",
        "forecast.km_per_month",
        "dealership.name",
        "agent.first_name",
        "touchpoint.due_on",
    }
)

# ------------------------------------------------------------------------------------------ scripts
# Calls: greeting, purpose, questions, what to record, close. Messages: short.

THANK_YOU_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }}, your salesperson \
at {{ dealership.name }}. Do you have two minutes?
Purpose: Thank you again for choosing the {{ vehicle.make }} {{ vehicle.model }}. I am calling to make \
sure the handover went well and to answer any questions.
Ask:
1. How are the first days with the car? Is everything as you expected?
2. Is anything unclear: the controls, the multimedia, the app, the documents?
3. Is anything from the handover still open (accessories, second key, number plates, papers)?
Record: satisfaction with the handover (yes/no and comment); open questions, who closes them and by when; \
the preferred channel and time for future contacts.
Close: If anything comes up, call me directly. In two weeks our customer care team will call to see how \
you are getting on. Enjoy the car!"""

THANK_YOU_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, ваш менеджер по продажам \
в дилерском центре {{ dealership.name }}. Удобно говорить пару минут?
Цель: Ещё раз спасибо, что выбрали {{ vehicle.make }} {{ vehicle.model }}. Звоню убедиться, что выдача \
прошла хорошо, и ответить на вопросы.
Вопросы:
1. Как первые дни с автомобилем? Всё ли так, как вы ожидали?
2. Всё ли понятно с управлением, мультимедиа, приложением, документами?
3. Осталось ли что-то незакрытое после выдачи (аксессуары, второй ключ, номера, документы)?
Зафиксировать: довольны ли выдачей (да/нет и комментарий); открытые вопросы, кто и к какому сроку их \
закрывает; удобный канал и время для связи.
Завершение: Если что-то возникнет, звоните мне напрямую. Через две недели вам позвонит наша служба \
заботы о клиентах — узнать, как дела. Приятных поездок!"""

FIRST_WEEKS_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }} from the customer \
care team at {{ dealership.name }}. Is now a good time for a short call?
Purpose: You have been driving your {{ vehicle.make }} {{ vehicle.model }} for two weeks; we would like \
to know how it is going and make sure you know how to reach our service.
Ask:
1. How is the car? Any noises, warning lights or anything that worries you?
2. Have you had time to look at accessories (mats, protection, roof box, towbar)? Shall we send a selection?
3. Do you know how to book service: phone, website, app? Shall I send you the service number?
4. Roughly how many kilometres do you drive a month?
Record: car condition and complaints (a complaint -> hand-off to service); interest in accessories; \
monthly mileage as an odometer reading if the customer names the current km.
Close: Thank you! Save our number; when the first maintenance (ТО) approaches we will call you in good \
time. Have a good day!"""

FIRST_WEEKS_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, служба заботы о клиентах \
{{ dealership.name }}. Удобно говорить?
Цель: Вы две недели ездите на {{ vehicle.make }} {{ vehicle.model }}. Хотим узнать, как впечатления, и \
убедиться, что вы знаете, как записаться на сервис.
Вопросы:
1. Как автомобиль? Нет ли посторонних звуков, ошибок на приборной панели, чего-то, что беспокоит?
2. Успели посмотреть аксессуары (коврики, защита, бокс, фаркоп)? Прислать подборку?
3. Знаете, как записаться на сервис: телефон, сайт, приложение? Отправить номер сервиса?
4. Примерно сколько километров в месяц вы проезжаете?
Зафиксировать: состояние автомобиля и жалобы (жалоба — передача специалисту сервиса); интерес к \
аксессуарам; пробег — как показание одометра, если клиент назвал текущий пробег.
Завершение: Спасибо! Сохраните наш номер: перед первым ТО мы заранее вам позвоним. Хорошего дня!"""

DEALER_CSI_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }} from \
{{ dealership.name }}. We are asking our customers about their purchase; it takes two minutes. May I?
Purpose: A short satisfaction survey about buying your {{ vehicle.make }} {{ vehicle.model }} from us.
Ask:
1. On a scale of 1 to 5, how satisfied are you with the purchase at our dealership overall?
2. On a scale of 0 to 10, how likely are you to recommend us to friends or colleagues?
3. What did you like most, and what should we improve (salesperson, paperwork, handover, waiting time)?
Record: CSAT (1-5), NPS (0-10), the comment word for word; a score of 3 or less (CSAT) or 6 or less (NPS) \
-> hand-off to the sales manager with the comment.
Close: Thank you, your answers go straight to the dealership's management. If anything goes wrong, call \
us. Have a good day!"""

DEALER_CSI_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, {{ dealership.name }}. \
Мы проводим короткий опрос удовлетворённости покупкой, это две минуты. Можно?
Цель: Опрос удовлетворённости покупкой {{ vehicle.make }} {{ vehicle.model }} в нашем дилерском центре.
Вопросы:
1. По шкале от 1 до 5: насколько вы в целом довольны покупкой у нас?
2. По шкале от 0 до 10: насколько вероятно, что вы порекомендуете нас друзьям или коллегам?
3. Что понравилось больше всего, а что нам стоит улучшить (менеджер, оформление, выдача, ожидание)?
Зафиксировать: CSI (1–5), NPS (0–10), комментарий дословно; оценка CSI 3 и ниже или NPS 6 и ниже — \
передача руководителю отдела продаж с комментарием.
Завершение: Спасибо, ваши ответы получит руководство дилерского центра. Если что-то не так — \
звоните нам. Хорошего дня!"""

OEM_SURVEY_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }} calling from \
{{ dealership.name }} on behalf of {{ vehicle.make }}. The manufacturer asks new owners a few questions; \
it takes three minutes. Is now convenient?
Purpose: The manufacturer's satisfaction survey about your new {{ vehicle.make }} {{ vehicle.model }}.
Ask:
1. On a scale of 0 to 10, how satisfied are you with the car itself?
2. How satisfied are you with the quality, the equipment and the fuel consumption?
3. Have you had any defects or faults since the purchase?
4. On a scale of 0 to 10, how likely are you to recommend {{ vehicle.make }}?
Record: the answers and scores as given; any defect -> hand-off to service (warranty case) with the \
description.
Close: Thank you, your answers go to the manufacturer. If a question about the car comes up, our service \
will help. Goodbye!"""

OEM_SURVEY_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, {{ dealership.name }}, \
звоню по поручению {{ vehicle.make }}. Производитель проводит опрос новых владельцев, это три минуты. \
Удобно?
Цель: Опрос удовлетворённости производителя по вашему новому {{ vehicle.make }} {{ vehicle.model }}.
Вопросы:
1. По шкале от 0 до 10: насколько вы довольны самим автомобилем?
2. Как оцениваете качество, комплектацию, расход топлива?
3. Были ли с момента покупки неисправности или дефекты?
4. По шкале от 0 до 10: насколько вероятно, что вы порекомендуете {{ vehicle.make }}?
Зафиксировать: ответы и оценки как есть; любая неисправность — передача специалисту сервиса \
(гарантийный случай) с описанием.
Завершение: Спасибо, ваши ответы будут переданы производителю. Если появятся вопросы по автомобилю, \
наш сервис поможет. До свидания!"""

ACCESSORIES_EN = """\
Subject: Accessories and protection for your {{ vehicle.make }} {{ vehicle.model }}
{{ customer.first_name }}, you have had your {{ vehicle.make }} {{ vehicle.model }} for two months. \
Now is a good time to protect it: all-weather mats, underbody and paint protection, a roof box or a \
towbar for trips. Genuine accessories, fitted at {{ dealership.name }} with the warranty kept. \
Reply to this e-mail or call us and we will pick a set for your car.
{{ dealership.name }}"""

ACCESSORIES_RU = """\
Тема: Аксессуары и защита для вашего {{ vehicle.make }} {{ vehicle.model }}
{{ customer.first_name }}, вы уже два месяца ездите на {{ vehicle.make }} {{ vehicle.model }}. \
Самое время позаботиться о защите: коврики, защита картера и кузова, бокс на крышу или фаркоп для \
поездок. Оригинальные аксессуары с установкой в {{ dealership.name }} — гарантия сохраняется. \
Ответьте на письмо или позвоните нам, и мы подберём комплект для вашего автомобиля.
{{ dealership.name }}"""

SERVICE_INVITE_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }} from the service \
department of {{ dealership.name }}. Do you have a minute?
Purpose: By our estimate your {{ vehicle.make }} {{ vehicle.model }} ({{ vehicle.plate }}) is due for \
scheduled maintenance around {{ forecast.next_due_on|date:"d.m.Y" }}. We are calling early so that you \
can pick a convenient day.
Ask:
1. What does the odometer show now? (We estimate about {{ forecast.km_per_month }} km a month.)
2. Which day and time suit you for the visit? Morning or evening?
3. Anything else to check during the visit: noises, warning lights, tyres, wipers?
4. Do you need a replacement car or a transfer while the car is with us?
Record: the current odometer reading (km); the booking (date and time) or the reason for refusal (done \
elsewhere -> record where and why); extra work requested.
Close: Thank you! I have booked you for [date, time]; we will send a reminder a few days before. See you \
at {{ dealership.name }}!"""

SERVICE_INVITE_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, сервис \
{{ dealership.name }}. Удобно говорить?
Цель: По нашему расчёту вашему {{ vehicle.make }} {{ vehicle.model }} ({{ vehicle.plate }}) скоро \
плановое ТО — ориентировочно {{ forecast.next_due_on|date:"d.m.Y" }}. Звоним заранее, чтобы вы выбрали \
удобный день.
Вопросы:
1. Какой сейчас пробег по одометру? (По нашей оценке — около {{ forecast.km_per_month }} км в месяц.)
2. Какой день и время вам удобны для заезда на ТО? Утро или вечер?
3. Что ещё проверить при заезде: посторонние звуки, ошибки на панели, шины, щётки?
4. Нужен ли подменный автомобиль или трансфер на время обслуживания?
Зафиксировать: текущий пробег (км); запись (дата и время) или причину отказа (ТО сделано в другом \
месте — где и почему); дополнительные работы.
Завершение: Спасибо! Записал(а) вас на [дата, время], за несколько дней пришлём напоминание. Ждём вас \
в {{ dealership.name }}!"""

SERVICE_REMINDER_EN = """\
{{ customer.first_name }}, your {{ vehicle.make }} {{ vehicle.model }} ({{ vehicle.plate }}) is due for \
scheduled maintenance around {{ forecast.next_due_on|date:"d.m.Y" }}. Not booked yet? Reply to this \
message or call {{ dealership.name }}."""

SERVICE_REMINDER_RU = """\
{{ customer.first_name }}, вашему {{ vehicle.make }} {{ vehicle.model }} ({{ vehicle.plate }}) \
подходит срок ТО — ориентировочно {{ forecast.next_due_on|date:"d.m.Y" }}. Ещё не записались? Ответьте \
на сообщение или позвоните в {{ dealership.name }}."""

POST_SERVICE_CSI_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }} from \
{{ dealership.name }}. Your {{ vehicle.make }} {{ vehicle.model }} was with our service a few days ago; \
may I ask two or three questions about the visit?
Purpose: A post-service satisfaction survey.
Ask:
1. On a scale of 1 to 5, how satisfied are you with the visit overall?
2. Was the work done on time and as agreed, and was the price as quoted?
3. Is everything fine with the car since the visit?
4. On a scale of 0 to 10, how likely are you to recommend our service?
Record: CSAT (1-5), NPS (0-10), the comment word for word; a problem after the visit or a low score \
-> hand-off to the service manager today.
Close: Thank you! We will call you before the next maintenance. Have a good trip!"""

POST_SERVICE_CSI_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, {{ dealership.name }}. \
Несколько дней назад ваш {{ vehicle.make }} {{ vehicle.model }} был у нас на сервисе. Можно задать два-три \
вопроса о визите?
Цель: Опрос удовлетворённости после сервиса.
Вопросы:
1. По шкале от 1 до 5: насколько вы в целом довольны визитом?
2. Работы сделали в срок и как договаривались? Стоимость совпала с согласованной?
3. После визита с автомобилем всё в порядке?
4. По шкале от 0 до 10: насколько вероятно, что вы порекомендуете наш сервис?
Зафиксировать: CSI (1–5), NPS (0–10), комментарий дословно; проблема после визита или низкая оценка — \
передача руководителю сервиса в тот же день.
Завершение: Спасибо! Перед следующим ТО мы вам позвоним. Хороших дорог!"""

TYRE_SEASON_EN = """\
{{ customer.first_name }}, the tyre season is coming. Book a tyre change for your {{ vehicle.make }} \
{{ vehicle.model }} at {{ dealership.name }} now and skip the queue: reply to this message or call us."""

TYRE_SEASON_RU = """\
{{ customer.first_name }}, приближается сезонная замена шин. Запишите {{ vehicle.make }} \
{{ vehicle.model }} в {{ dealership.name }} заранее, без очередей: ответьте на сообщение или позвоните нам."""

INSURANCE_RENEWAL_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }}, insurance desk of \
{{ dealership.name }}. Do you have a couple of minutes?
Purpose: The insurance of your {{ vehicle.make }} {{ vehicle.model }} ({{ vehicle.plate }}) is due for \
renewal in about a month; we can prepare an offer in advance so that there is no gap in cover.
Ask:
1. Where is the car insured now, and when does the policy end?
2. Has anything changed: drivers, their experience, how the car is used, claims this year?
3. Which cover do you want: compulsory only, or comprehensive as well?
Record: current insurer and policy end date; changes in drivers; the cover wanted; consent to prepare \
a quote; interest -> hand-off to the insurance specialist.
Close: Thank you! I will prepare the offer and send it by [channel] by [date]. Have a good day!"""

INSURANCE_RENEWAL_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, отдел страхования \
{{ dealership.name }}. Удобно говорить пару минут?
Цель: Примерно через месяц заканчивается страховка вашего {{ vehicle.make }} {{ vehicle.model }} \
({{ vehicle.plate }}). Можем заранее подготовить предложение, чтобы не было перерыва в защите.
Вопросы:
1. Где сейчас застрахован автомобиль и когда заканчивается полис?
2. Что-то изменилось: водители, их стаж, использование автомобиля, страховые случаи за год?
3. Какая защита нужна: только ОСАГО или ОСАГО и КАСКО?
Зафиксировать: текущую страховую и дату окончания полиса; изменения по водителям; нужную защиту; \
согласие на расчёт; интерес — передача специалисту по страхованию.
Завершение: Спасибо! Подготовлю предложение и пришлю его [канал] до [дата]. Хорошего дня!"""

BIRTHDAY_EN = """\
{{ customer.first_name }}, happy birthday! The whole {{ dealership.name }} team wishes you health, \
happiness and many good kilometres."""

BIRTHDAY_RU = """\
{{ customer.first_name }}, с днём рождения! Команда {{ dealership.name }} желает вам здоровья, счастья \
и лёгких дорог."""

WARRANTY_EXTENSION_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }} from the service \
department of {{ dealership.name }}. Is now a good time?
Purpose: The factory warranty on your {{ vehicle.make }} {{ vehicle.model }} ends in about three months. \
You can extend it now, while the car is still under warranty, at no inspection cost.
Ask:
1. What does the odometer show now?
2. Do you plan to keep the car for another two or three years?
3. Would you like the extended-warranty terms and price: what is covered, for how long, for how many km?
Record: current odometer (km); plans for the car (keep / sell: selling -> hand-off to trade-in); \
interest in the extended warranty -> hand-off to the service adviser with the preferred period.
Close: Thank you! I will send you the terms by [channel]. Before the warranty ends we will also remind \
you about a last inspection under warranty."""

WARRANTY_EXTENSION_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, сервис \
{{ dealership.name }}. Удобно говорить?
Цель: Примерно через три месяца заканчивается заводская гарантия на ваш {{ vehicle.make }} \
{{ vehicle.model }}. Сейчас, пока гарантия действует, её можно продлить без дополнительной диагностики.
Вопросы:
1. Какой сейчас пробег по одометру?
2. Планируете ездить на этом автомобиле ещё два-три года?
3. Рассказать об условиях продлённой гарантии: что покрывает, на какой срок и пробег, сколько стоит?
Зафиксировать: текущий пробег (км); планы на автомобиль (оставить / продать: продать — передача \
специалисту по трейд-ин); интерес к продлённой гарантии — передача сервисному консультанту с желаемым сроком.
Завершение: Спасибо! Пришлю условия [канал]. Перед окончанием гарантии напомним о последнем \
гарантийном осмотре."""

WARRANTY_LAST_CHECK_EN = """\
{{ customer.first_name }}, the factory warranty on your {{ vehicle.make }} {{ vehicle.model }} ends \
soon. Book a last check under warranty at {{ dealership.name }}: warranty faults we find are fixed free \
of charge. Reply or call us."""

WARRANTY_LAST_CHECK_RU = """\
{{ customer.first_name }}, заводская гарантия на ваш {{ vehicle.make }} {{ vehicle.model }} скоро \
заканчивается. Запишитесь на последний гарантийный осмотр в {{ dealership.name }}: найденные \
гарантийные неисправности устраним бесплатно. Ответьте или позвоните нам."""

ANNIVERSARY_1_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }} from \
{{ dealership.name }}. Congratulations: you have had your {{ vehicle.make }} {{ vehicle.model }} for a \
year! Do you have two minutes?
Purpose: A one-year call: how the car is doing, and an update of your details so that we contact you at \
the right time and in the right way.
Ask:
1. How has the first year with the car been? Anything that bothers you?
2. What does the odometer show now?
3. Are your phone number and e-mail still current? Which channel and time suit you best?
4. Who else drives the car?
Record: satisfaction (1-5) and comments; current odometer (km); corrected contact data, channel and \
hours; a complaint -> hand-off to service.
Close: Thank you! We will keep in touch: before the maintenance and the insurance renewal we will remind \
you in good time. Have a good year with the car!"""

ANNIVERSARY_1_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, {{ dealership.name }}. \
Поздравляем: вы уже год ездите на {{ vehicle.make }} {{ vehicle.model }}! Удобно говорить пару минут?
Цель: Звонок на годовщину покупки: как автомобиль, и обновить ваши данные, чтобы связываться с вами \
вовремя и удобным способом.
Вопросы:
1. Как прошёл первый год с автомобилем? Есть ли что-то, что беспокоит?
2. Какой сейчас пробег по одометру?
3. Телефон и e-mail актуальны? Какой канал и время связи вам удобнее?
4. Кто ещё ездит на автомобиле?
Зафиксировать: удовлетворённость (1–5) и комментарии; текущий пробег (км); исправленные контактные \
данные, канал и часы связи; жалоба — передача специалисту сервиса.
Завершение: Спасибо! Будем на связи: перед ТО и продлением страховки заранее напомним. Хорошего года \
с автомобилем!"""

NEEDS_CHECK_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }}, sales department \
of {{ dealership.name }}. Do you have a minute?
Purpose: You have driven your {{ vehicle.make }} {{ vehicle.model }} for a year and a half; we check \
with our customers whether the car still fits their needs.
Ask:
1. Does the car still suit you: size, boot, running costs?
2. Has anything changed in the family or at work: a new family member, a longer commute, a second car?
3. If you were choosing today, what would matter most?
Record: the needs and the changes named; the interest level (cold / warm / hot); hot -> hand-off to the \
salesperson with the notes.
Close: Thank you! If your plans change, I will be glad to help: we have trade-in offers for our \
customers. Goodbye!"""

NEEDS_CHECK_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, отдел продаж \
{{ dealership.name }}. Удобно говорить?
Цель: Вы полтора года ездите на {{ vehicle.make }} {{ vehicle.model }}. Мы уточняем у клиентов, \
по-прежнему ли автомобиль подходит под их задачи.
Вопросы:
1. Автомобиль вас по-прежнему устраивает: размер, багажник, расходы на содержание?
2. Что-то изменилось в семье или на работе: пополнение, дорога дальше, нужен второй автомобиль?
3. Если бы выбирали сегодня, что было бы самым важным?
Зафиксировать: названные потребности и изменения; степень интереса (холодный / тёплый / горячий клиент); \
горячий — передача менеджеру по продажам с заметками.
Завершение: Спасибо! Если планы изменятся, буду рад(а) помочь: для наших клиентов есть выгодные условия \
по трейд-ин. До свидания!"""

TRADE_IN_VALUATION_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }}, trade-in department \
of {{ dealership.name }}. Do you have two minutes?
Purpose: Your {{ vehicle.make }} {{ vehicle.model }} is two years old, an age at which it still holds \
its value well. We offer our customers a free valuation with no obligation.
Ask:
1. What does the odometer show now?
2. Has the car had any accidents or body repairs? What condition is it in?
3. Are you thinking of changing the car in the next year? Which model would interest you?
4. When would suit you for a 30-minute valuation at the dealership?
Record: current odometer (km); condition and damage history; replacement plans and the model of \
interest; a valuation appointment -> hand-off to the trade-in specialist.
Close: Thank you! The valuation is free and does not oblige you to anything. See you on [date]!"""

TRADE_IN_VALUATION_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, отдел трейд-ин \
{{ dealership.name }}. Удобно говорить пару минут?
Цель: Вашему {{ vehicle.make }} {{ vehicle.model }} два года — в этом возрасте автомобиль ещё хорошо \
держит цену. Предлагаем нашим клиентам бесплатную оценку без обязательств.
Вопросы:
1. Какой сейчас пробег по одометру?
2. Были ли ДТП или кузовной ремонт? В каком состоянии автомобиль?
3. Думаете о смене автомобиля в ближайший год? Какая модель была бы интересна?
4. Когда вам удобно подъехать на оценку? Это около 30 минут.
Зафиксировать: текущий пробег (км); состояние и историю повреждений; планы на замену и интересующую \
модель; запись на оценку — передача специалисту по трейд-ин.
Завершение: Спасибо! Оценка бесплатная и ни к чему не обязывает. Ждём вас [дата]!"""

NEW_MODELS_EN = """\
Subject: New models at {{ dealership.name }}: come for a test drive
{{ customer.first_name }}, a lot is new at {{ dealership.name }}: new models and versions, and special \
trade-in terms for owners like you. Your {{ vehicle.make }} {{ vehicle.model }} can count towards the \
new car. Reply to this e-mail to book a test drive at a time that suits you.
{{ dealership.name }}"""

NEW_MODELS_RU = """\
Тема: Новые модели в {{ dealership.name }}: приглашаем на тест-драйв
{{ customer.first_name }}, в {{ dealership.name }} много нового: новые модели и комплектации, \
специальные условия трейд-ин для наших клиентов. Ваш {{ vehicle.make }} {{ vehicle.model }} можно \
зачесть в стоимость нового автомобиля. Ответьте на письмо, чтобы записаться на тест-драйв в удобное время.
{{ dealership.name }}"""

NEXT_CAR_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }}, sales department \
of {{ dealership.name }}. Is now a good time?
Purpose: Your {{ vehicle.make }} {{ vehicle.model }} is two and a half years old. Many of our customers \
change their car at this point, while the warranty still runs and the trade-in value is high; I would \
like to offer a consultation on your next car.
Ask:
1. How do you feel about the car now? Is it time for something new?
2. What would the next car be: the same class, bigger, a different engine?
3. What budget or monthly payment are you comfortable with? Would you consider credit or leasing?
4. When could you come in to see the options and get a trade-in valuation?
Record: the wishes (model, class, budget, financing); the appointment; the interest level (cold / warm / \
hot); hot -> hand-off to the salesperson.
Close: Thank you! I will prepare a few options with your trade-in counted in. See you on [date]!"""

NEXT_CAR_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, отдел продаж \
{{ dealership.name }}. Удобно говорить?
Цель: Вашему {{ vehicle.make }} {{ vehicle.model }} два с половиной года. Многие наши клиенты меняют \
автомобиль именно сейчас, пока действует гарантия и цена по трейд-ин высокая. Хочу предложить \
консультацию по следующему автомобилю.
Вопросы:
1. Как вам автомобиль сейчас? Не хочется ли чего-то нового?
2. Каким был бы следующий автомобиль: тот же класс, больше, другой двигатель?
3. На какой бюджет или ежемесячный платёж вы ориентируетесь? Рассматриваете кредит или лизинг?
4. Когда сможете подъехать посмотреть варианты и оценить автомобиль в трейд-ин?
Зафиксировать: пожелания (модель, класс, бюджет, финансирование); дату встречи; степень интереса \
(холодный / тёплый / горячий клиент); горячий — передача менеджеру по продажам.
Завершение: Спасибо! Подготовлю несколько вариантов с учётом трейд-ин. Ждём вас [дата]!"""

TEST_DRIVE_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }}, sales department \
of {{ dealership.name }}. Do you have a minute?
Purpose: I would like to invite you to a test drive of our new models; it is a good way to compare them \
with your {{ vehicle.make }} {{ vehicle.model }}, with no obligation.
Ask:
1. Which model would you like to try? Shall I suggest one for your needs?
2. Which day and time suit you? Weekday or weekend?
3. Shall we value your car for trade-in at the same visit?
Record: the model, the date and time of the test drive, trade-in valuation yes/no; a booking -> \
hand-off to the salesperson.
Close: Thank you! I have booked the test drive for [date, time]; please bring your driving licence. See \
you!"""

TEST_DRIVE_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, отдел продаж \
{{ dealership.name }}. Удобно говорить?
Цель: Хочу пригласить вас на тест-драйв новых моделей: удобно сравнить их с вашим {{ vehicle.make }} \
{{ vehicle.model }}, без каких-либо обязательств.
Вопросы:
1. Какую модель хотели бы попробовать? Подсказать под ваши задачи?
2. Какой день и время вам удобны? Будни или выходные?
3. Оценить ваш автомобиль в трейд-ин в тот же визит?
Зафиксировать: модель, дату и время тест-драйва, оценку в трейд-ин (да/нет); запись — передача \
менеджеру по продажам.
Завершение: Спасибо! Записал(а) вас на тест-драйв [дата, время], возьмите, пожалуйста, водительское \
удостоверение. До встречи!"""

FINAL_OFFER_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }}, sales department \
of {{ dealership.name }}. Is now convenient?
Purpose: The warranty on your {{ vehicle.make }} {{ vehicle.model }} ends next month. Until then your \
car is valued as a car under warranty, so this is the best moment to change it; we have prepared a \
personal offer.
Ask:
1. Have you decided what to do with the car after the warranty: keep it or change it?
2. If change: which model and budget? Would you like the trade-in figure for your car?
3. If keep: shall we tell you about the extended warranty and the maintenance plan?
Record: the decision (change / keep / undecided); the model and budget; hot -> hand-off to the \
salesperson today; keep -> hand-off to service for the extended warranty.
Close: Thank you! I will send the offer by [channel]; it is valid until [date]. Goodbye!"""

FINAL_OFFER_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, отдел продаж \
{{ dealership.name }}. Удобно говорить?
Цель: В следующем месяце заканчивается гарантия на ваш {{ vehicle.make }} {{ vehicle.model }}. Пока она \
действует, автомобиль оценивается как гарантийный — это лучший момент для замены. Мы подготовили для вас \
персональное предложение.
Вопросы:
1. Решили, что будете делать с автомобилем после окончания гарантии: оставить или поменять?
2. Если поменять: какая модель и бюджет? Рассчитать стоимость вашего автомобиля в трейд-ин?
3. Если оставить: рассказать о продлённой гарантии и пакете ТО?
Зафиксировать: решение (поменять / оставить / не решил); модель и бюджет; горячий клиент — передача \
менеджеру по продажам в тот же день; оставить — передача в сервис по продлённой гарантии.
Завершение: Спасибо! Пришлю предложение [канал], оно действует до [дата]. До свидания!"""

ANNIVERSARY_2_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }} from \
{{ dealership.name }}. You have had your {{ vehicle.make }} {{ vehicle.model }} for two years; do you \
have two minutes?
Purpose: A two-year call: how the car is doing, and an update of your details.
Ask:
1. How is the car after two years? Anything that needs attention?
2. What does the odometer show now?
3. Are your phone number, e-mail and preferred time to call still current?
Record: satisfaction (1-5) and comments; current odometer (km); corrected contact data; a complaint -> \
hand-off to service; interest in a new car -> hand-off to sales.
Close: Thank you! We will remind you in good time about maintenance and insurance. Have a good day!"""

ANNIVERSARY_2_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, {{ dealership.name }}. \
Вы уже два года ездите на {{ vehicle.make }} {{ vehicle.model }}. Удобно говорить пару минут?
Цель: Звонок на вторую годовщину покупки: как автомобиль, и обновить ваши данные.
Вопросы:
1. Как автомобиль спустя два года? Требует ли что-то внимания?
2. Какой сейчас пробег по одометру?
3. Телефон, e-mail и удобное время для звонка актуальны?
Зафиксировать: удовлетворённость (1–5) и комментарии; текущий пробег (км); исправленные контактные \
данные; жалоба — передача специалисту сервиса; интерес к новому автомобилю — передача в отдел продаж.
Завершение: Спасибо! Заранее напомним о ТО и страховке. Хорошего дня!"""

MISSED_SERVICE_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }} from the service \
department of {{ dealership.name }}. Do you have a minute?
Purpose: By our records your {{ vehicle.make }} {{ vehicle.model }} ({{ vehicle.plate }}) was due for \
scheduled maintenance a month ago and we have not seen it. We want to make sure everything is fine with \
the car.
Ask:
1. Has the maintenance already been done? If so, where, and what made you choose that place?
2. If not yet: what does the odometer show now, and when could you come in?
3. Was there anything about our service that you were not happy with?
Record: done elsewhere yes/no, where and the reason (price, distance, time, quality), word for word; \
current odometer (km); a booking (date) or refusal; dissatisfaction -> hand-off to the service manager.
Close: Thank you for being frank, it helps us improve. We will be glad to see you at {{ dealership.name }}. \
Goodbye!"""

MISSED_SERVICE_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, сервис \
{{ dealership.name }}. Удобно говорить?
Цель: По нашим данным, месяц назад вашему {{ vehicle.make }} {{ vehicle.model }} ({{ vehicle.plate }}) \
подошёл срок ТО, а к нам вы не заезжали. Хотим убедиться, что с автомобилем всё в порядке.
Вопросы:
1. ТО уже сделали? Если да — где, и почему выбрали этот сервис?
2. Если ещё нет — какой сейчас пробег и когда вам удобно заехать?
3. Было ли что-то в нашем сервисе, что вас не устроило?
Зафиксировать: ТО сделано в другом месте (да/нет), где и причину (цена, расстояние, время, качество) — \
дословно; текущий пробег (км); запись (дата) или отказ; недовольство — передача руководителю сервиса.
Завершение: Спасибо за откровенность, это помогает нам стать лучше. Будем рады видеть вас в \
{{ dealership.name }}. До свидания!"""

LAPSED_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }} from \
{{ dealership.name }}. We have not been in touch for a while; do you have a minute?
Purpose: To check that everything is fine with your {{ vehicle.make }} {{ vehicle.model }} and that our \
details for you are up to date.
Ask:
1. Do you still drive the {{ vehicle.make }} {{ vehicle.model }}? (If sold: when, and what do you drive now?)
2. Where do you service the car now? What does the odometer show?
3. Are your phone number and e-mail still current? How would you prefer us to contact you?
4. Could we help with anything now: maintenance, tyres, insurance, a new car?
Record: still the owner yes/no (sold -> record the date); where the car is serviced and why; current \
odometer (km); corrected contact data; any interest -> hand-off to the right department.
Close: Thank you! We would be glad to see you again at {{ dealership.name }}. Goodbye!"""

LAPSED_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, {{ dealership.name }}. \
Мы давно не общались. Удобно говорить минуту?
Цель: Убедиться, что с вашим {{ vehicle.make }} {{ vehicle.model }} всё в порядке и что ваши контактные \
данные у нас актуальны.
Вопросы:
1. Вы по-прежнему ездите на {{ vehicle.make }} {{ vehicle.model }}? (Если продали — когда и на чём \
ездите сейчас?)
2. Где сейчас обслуживаете автомобиль? Какой пробег по одометру?
3. Телефон и e-mail актуальны? Как вам удобнее, чтобы мы связывались?
4. Можем чем-то помочь сейчас: ТО, шины, страховка, новый автомобиль?
Зафиксировать: владеет ли автомобилем (продан — дата продажи); где обслуживается и почему; текущий \
пробег (км); исправленные контактные данные; интерес — передача специалисту нужного отдела.
Завершение: Спасибо! Будем рады снова видеть вас в {{ dealership.name }}. До свидания!"""

KEEP_ALIVE_EN = """\
Greeting: Good afternoon, {{ customer.first_name }}! This is {{ agent.first_name }} from \
{{ dealership.name }}. Do you have a minute?
Purpose: A short courtesy call: how is your {{ vehicle.make }} {{ vehicle.model }}, and can we help \
with anything?
Ask:
1. Is everything fine with the car?
2. What does the odometer show now? (Next maintenance by our estimate: \
{{ forecast.next_due_on|date:"d.m.Y" }}.)
3. Are your contact details still current?
Record: current odometer (km); complaints or needs -> hand-off to the right department; corrected \
contact data.
Close: Thank you! We are always glad to help: call us at {{ dealership.name }}. Goodbye!"""

KEEP_ALIVE_RU = """\
Приветствие: Добрый день, {{ customer.first_name }}! Это {{ agent.first_name }}, {{ dealership.name }}. \
Удобно говорить минуту?
Цель: Короткий звонок: как ваш {{ vehicle.make }} {{ vehicle.model }}, можем ли мы чем-то помочь?
Вопросы:
1. С автомобилем всё в порядке?
2. Какой сейчас пробег по одометру? (Следующее ТО по нашему расчёту — \
{{ forecast.next_due_on|date:"d.m.Y" }}.)
3. Ваши контактные данные актуальны?
Зафиксировать: текущий пробег (км); жалобы или потребности — передача специалисту нужного отдела; \
исправленные контактные данные.
Завершение: Спасибо! Всегда рады помочь — звоните в {{ dealership.name }}. До свидания!"""


# ------------------------------------------------------------------------------------------ program


_P = DEPARTMENT_PRIORITY

DEFAULT_PROGRAM: Final[tuple[TemplateSpec, ...]] = (
    # --- onboarding (5)
    TemplateSpec(
        code="thank_you",
        name_en="Thank-you call",
        name_ru="Звонок-благодарность",
        department="sales",
        channel="call",
        anchor="sale",
        offset_days=1,
        priority=_P["sales"],
        script_en=THANK_YOU_EN,
        script_ru=THANK_YOU_RU,
    ),
    TemplateSpec(
        code="first_weeks",
        name_en="First-weeks check",
        name_ru="Первые недели владения",
        department="call_centre",
        channel="call",
        anchor="sale",
        offset_days=14,
        priority=_P["call_centre"],
        script_en=FIRST_WEEKS_EN,
        script_ru=FIRST_WEEKS_RU,
    ),
    TemplateSpec(
        code="dealer_csi",
        name_en="Dealer satisfaction survey",
        name_ru="Опрос удовлетворённости дилера",
        department="call_centre",
        channel="call",
        anchor="sale",
        offset_days=30,
        priority=_P["call_centre"],
        script_en=DEALER_CSI_EN,
        script_ru=DEALER_CSI_RU,
    ),
    TemplateSpec(
        code="oem_survey",
        name_en="Manufacturer's satisfaction survey",
        name_ru="Опрос удовлетворённости производителя",
        department="manufacturer",
        channel="call",
        anchor="sale",
        offset_days=45,
        priority=_P["manufacturer"],
        sale_kinds=("new",),
        script_en=OEM_SURVEY_EN,
        script_ru=OEM_SURVEY_RU,
    ),
    TemplateSpec(
        code="accessories",
        name_en="Accessories and protection offer",
        name_ru="Предложение аксессуаров и защиты",
        department="parts",
        channel="email",
        anchor="sale",
        offset_days=60,
        priority=_P["parts"],
        script_en=ACCESSORIES_EN,
        script_ru=ACCESSORIES_RU,
    ),
    # --- maintenance (3 + 3 + 3 on the reference vehicle)
    TemplateSpec(
        code="service_invite",
        name_en="Maintenance invitation",
        name_ru="Приглашение на ТО",
        department="service",
        channel="call",
        anchor="maintenance_due",
        recurrence="per_maintenance",
        offset_days=-21,
        window_start_days=0,
        window_end_days=14,
        priority=_P["service"],
        phase="always",
        script_en=SERVICE_INVITE_EN,
        script_ru=SERVICE_INVITE_RU,
    ),
    TemplateSpec(
        code="service_reminder",
        name_en="Maintenance reminder",
        name_ru="Напоминание о ТО",
        department="service",
        channel="sms",
        anchor="maintenance_due",
        recurrence="per_maintenance",
        offset_days=-3,
        window_start_days=0,
        window_end_days=2,
        priority=_P["service"],
        phase="always",
        skip_when_maintenance_booked_or_done=True,
        script_en=SERVICE_REMINDER_EN,
        script_ru=SERVICE_REMINDER_RU,
    ),
    TemplateSpec(
        code="post_service_csi",
        name_en="Post-service satisfaction survey",
        name_ru="Опрос удовлетворённости после сервиса",
        department="call_centre",
        channel="call",
        anchor="maintenance_visit",
        recurrence="per_visit",
        offset_days=3,
        priority=_P["call_centre"],
        script_en=POST_SERVICE_CSI_EN,
        script_ru=POST_SERVICE_CSI_RU,
    ),
    # --- yearly (6 + 3 + 3)
    TemplateSpec(
        code="tyre_season",
        name_en="Seasonal tyre change",
        name_ru="Сезонная замена шин",
        department="service",
        channel="sms",
        anchor="season",
        recurrence="seasonal",
        offset_days=-10,
        priority=_P["service"],
        phase="always",
        script_en=TYRE_SEASON_EN,
        script_ru=TYRE_SEASON_RU,
    ),
    TemplateSpec(
        code="insurance_renewal",
        name_en="Insurance renewal offer",
        name_ru="Продление страховки",
        department="insurance",
        channel="call",
        anchor="insurance_renewal",
        recurrence="yearly",
        offset_days=-30,
        priority=_P["insurance"],
        script_en=INSURANCE_RENEWAL_EN,
        script_ru=INSURANCE_RENEWAL_RU,
    ),
    TemplateSpec(
        code="birthday",
        name_en="Birthday greeting",
        name_ru="Поздравление с днём рождения",
        department="call_centre",
        channel="sms",
        anchor="birthday",
        recurrence="yearly",
        window_start_days=0,
        window_end_days=0,
        priority=_P["call_centre"],
        requires_birthday=True,
        phase="always",
        script_en=BIRTHDAY_EN,
        script_ru=BIRTHDAY_RU,
    ),
    # --- warranty (2)
    TemplateSpec(
        code="warranty_extension",
        name_en="Extended-warranty offer",
        name_ru="Предложение продлённой гарантии",
        department="service",
        channel="call",
        anchor="warranty_end",
        offset_days=-90,
        priority=_P["service"],
        script_en=WARRANTY_EXTENSION_EN,
        script_ru=WARRANTY_EXTENSION_RU,
    ),
    TemplateSpec(
        code="warranty_last_check",
        name_en="Last inspection under warranty",
        name_ru="Последний гарантийный осмотр",
        department="service",
        channel="sms",
        anchor="warranty_end",
        offset_days=-30,
        priority=_P["service"],
        script_en=WARRANTY_LAST_CHECK_EN,
        script_ru=WARRANTY_LAST_CHECK_RU,
    ),
    # --- relationship (2 + 1)
    TemplateSpec(
        code="anniversary_1",
        name_en="One-year call",
        name_ru="Звонок на годовщину покупки",
        department="call_centre",
        channel="call",
        anchor="sale",
        offset_months=12,
        priority=_P["call_centre"],
        script_en=ANNIVERSARY_1_EN,
        script_ru=ANNIVERSARY_1_RU,
    ),
    TemplateSpec(
        code="needs_check",
        name_en="Needs check",
        name_ru="Изменились ли потребности",
        department="sales",
        channel="call",
        anchor="sale",
        offset_months=18,
        priority=_P["sales"],
        script_en=NEEDS_CHECK_EN,
        script_ru=NEEDS_CHECK_RU,
    ),
    TemplateSpec(
        code="anniversary_2",
        name_en="Two-year call",
        name_ru="Звонок на вторую годовщину",
        department="call_centre",
        channel="call",
        anchor="sale",
        offset_months=24,
        priority=_P["call_centre"],
        script_en=ANNIVERSARY_2_EN,
        script_ru=ANNIVERSARY_2_RU,
    ),
    # --- next car (5)
    TemplateSpec(
        code="trade_in_valuation",
        name_en="Trade-in valuation offer",
        name_ru="Предложение оценки в трейд-ин",
        department="trade_in",
        channel="call",
        anchor="sale",
        offset_months=24,
        priority=_P["trade_in"],
        script_en=TRADE_IN_VALUATION_EN,
        script_ru=TRADE_IN_VALUATION_RU,
    ),
    TemplateSpec(
        code="new_models",
        name_en="New models and test drive",
        name_ru="Новые модели и тест-драйв",
        department="sales",
        channel="email",
        anchor="sale",
        offset_months=27,
        priority=_P["sales"],
        script_en=NEW_MODELS_EN,
        script_ru=NEW_MODELS_RU,
    ),
    TemplateSpec(
        code="next_car",
        name_en="Next-car consultation",
        name_ru="Консультация по следующему автомобилю",
        department="sales",
        channel="call",
        anchor="sale",
        offset_months=30,
        priority=_P["sales"],
        script_en=NEXT_CAR_EN,
        script_ru=NEXT_CAR_RU,
    ),
    TemplateSpec(
        code="test_drive",
        name_en="Test-drive invitation",
        name_ru="Приглашение на тест-драйв",
        department="sales",
        channel="call",
        anchor="sale",
        offset_months=33,
        priority=_P["sales"],
        script_en=TEST_DRIVE_EN,
        script_ru=TEST_DRIVE_RU,
    ),
    TemplateSpec(
        code="final_offer",
        name_en="Last offer before the warranty ends",
        name_ru="Последнее предложение до окончания гарантии",
        department="sales",
        channel="call",
        anchor="sale",
        offset_months=35,
        priority=_P["sales"],
        script_en=FINAL_OFFER_EN,
        script_ru=FINAL_OFFER_RU,
    ),
    # --- conditional (outside the 36)
    TemplateSpec(
        code="missed_service",
        name_en="Missed maintenance win-back",
        name_ru="Пропущенное ТО",
        department="service",
        channel="call",
        anchor="missed_maintenance",
        recurrence="per_maintenance",
        offset_days=30,
        priority=_P["service"],
        phase="always",
        script_en=MISSED_SERVICE_EN,
        script_ru=MISSED_SERVICE_RU,
    ),
    TemplateSpec(
        code="lapsed",
        name_en="Reactivation call",
        name_ru="Реактивация клиента",
        department="call_centre",
        channel="call",
        anchor="lapsed",
        offset_months=12,
        offset_days=1,
        priority=_P["call_centre"],
        phase="always",
        script_en=LAPSED_EN,
        script_ru=LAPSED_RU,
    ),
    TemplateSpec(
        code="keep_alive",
        name_en="Keep-alive call",
        name_ru="Звонок «на связи»",
        department="call_centre",
        channel="call",
        anchor="keep_alive",
        offset_months=11,
        priority=_P["call_centre"],
        phase="always",
        script_en=KEEP_ALIVE_EN,
        script_ru=KEEP_ALIVE_RU,
    ),
)

#: Codes of the templates planned on PROGRAM.md's reference vehicle (the 36), and the conditional ones.
CONDITIONAL_CODES: Final[frozenset[str]] = frozenset({"missed_service", "lapsed", "keep_alive"})
TEMPLATES_BY_CODE: Final[dict[str, TemplateSpec]] = {t.code: t for t in DEFAULT_PROGRAM}
