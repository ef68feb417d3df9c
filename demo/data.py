"""Realistic demo content for the two demo businesses. Deterministic (seeded random), and
idempotent: a business that already has programs is left as it is."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time, timedelta

from django.db import transaction
from django.utils import timezone

from kernel.users.models import User
from portal.accounts.models import (
    EmergencyContact,
    Family,
    Guardian,
    Policy,
    PolicyAcceptance,
    Student,
)
from portal.catalog.models import (
    AvailabilitySlot,
    Level,
    Location,
    Offering,
    Program,
    StaffProfile,
    Term,
)
from portal.config.models import Announcement


@dataclass(frozen=True)
class ProgramSpec:
    name: str
    description: str
    levels: list[str]
    classes: list[tuple[str, int | None, int | None, str]]  # name, min age, max age, gender


@dataclass(frozen=True)
class BusinessSpec:
    programs: list[ProgramSpec]
    locations: list[tuple[str, str]]
    staff: list[tuple[str, str, str]]
    camps: list[str]
    events: list[str]
    announcements: list[tuple[str, str, str, str]]  # title, body, severity, audience
    tuition_range: tuple[int, int]
    last_names: list[str]


FIRST_NAMES_KIDS = [
    "Mia",
    "Leo",
    "Ava",
    "Noah",
    "Zoe",
    "Eli",
    "Luna",
    "Max",
    "Ivy",
    "Sam",
    "Nora",
    "Owen",
    "Ruby",
    "Finn",
    "Isla",
    "Kai",
    "Maya",
    "Theo",
    "Lila",
    "Omar",
]
FIRST_NAMES_ADULTS = [
    "Dana",
    "Chris",
    "Priya",
    "Marcus",
    "Elena",
    "Jordan",
    "Aisha",
    "Tom",
    "Mei",
    "Carlos",
    "Sarah",
    "Kwame",
    "Laura",
    "Diego",
    "Hana",
    "Ben",
]

ACME = BusinessSpec(
    programs=[
        ProgramSpec(
            "Preschool Gymnastics",
            "Movement, balance and confidence for little ones.",
            ["Tumblebugs", "Tumblers", "Mini Flippers"],
            [
                ("Parent & Me", 1, 3, "any"),
                ("Tiny Tumblers", 3, 4, "any"),
                ("Preschool Flips", 4, 5, "any"),
                ("Kinder Gym", 5, 6, "any"),
            ],
        ),
        ProgramSpec(
            "Recreational Gymnastics",
            "Skills on every apparatus at your child's pace.",
            ["Level 1", "Level 2", "Level 3", "Level 4"],
            [
                ("Girls Rec", 6, 12, "female"),
                ("Boys Rec", 6, 12, "male"),
                ("Teen Gym", 12, 17, "any"),
                ("Rec Beginner", 6, 10, "any"),
            ],
        ),
        ProgramSpec(
            "Ninja & Parkour",
            "Obstacles, climbing and vaulting.",
            ["Rookie", "Warrior", "Master"],
            [
                ("Ninja Kids", 5, 8, "any"),
                ("Ninja Warriors", 8, 13, "any"),
                ("Parkour Teens", 12, 17, "any"),
            ],
        ),
    ],
    locations=[("Main Gym", "120 Elm Street"), ("Westside Annex", "44 Oak Avenue")],
    staff=[
        ("Coach Kim", "Head coach", "Former national team gymnast with 15 years of coaching."),
        ("Coach Rafael", "Ninja program lead", "Obstacle-course champion and climbing coach."),
        ("Coach Bea", "Preschool director", "Early-childhood educator who makes tumbling fun."),
        ("Coach Tyler", "Boys program coach", "Men's gymnastics specialist."),
        ("Coach Amara", "Recreational coach", "Judge and coach for recreational levels."),
    ],
    camps=[
        "Winter Break Flip Camp",
        "Spring Break Ninja Camp",
        "Summer Gym Camp Week 1",
        "Summer Gym Camp Week 2",
        "Summer Ninja Camp",
    ],
    events=["Parents Night Out", "Birthday Open Gym", "Holiday Showcase", "Ninja Challenge Night"],
    announcements=[
        (
            "Winter session registration is open",
            "Returning families have priority until Dec 1.",
            "info",
            "everyone",
        ),
        (
            "Closed Thanksgiving weekend",
            "No classes Nov 26-29. Makeups are available.",
            "warning",
            "everyone",
        ),
        ("Team tryouts in January", "Ask your coach for an invitation.", "info", "logged_in"),
    ],
    tuition_range=(8500, 16500),
    last_names=[
        "Rivera",
        "Nguyen",
        "Patel",
        "Johnson",
        "Okafor",
        "Schmidt",
        "Garcia",
        "Kim",
        "Rossi",
        "Haddad",
        "Brown",
        "Silva",
        "Cohen",
        "Murphy",
        "Tanaka",
        "Lopez",
        "Novak",
        "Ali",
        "Dubois",
        "Jensen",
    ],
)

ZEN = BusinessSpec(
    programs=[
        ProgramSpec(
            "Learn to Swim",
            "Water safety and first strokes in small groups.",
            ["Starfish", "Seahorse", "Otter", "Dolphin"],
            [
                ("Parent & Baby Splash", 0, 2, "any"),
                ("Starfish Group", 3, 5, "any"),
                ("Seahorse Group", 4, 7, "any"),
                ("Otter Group", 6, 10, "any"),
                ("Dolphin Group", 7, 12, "any"),
            ],
        ),
        ProgramSpec(
            "Stroke Development",
            "Technique for confident swimmers.",
            ["Bronze", "Silver", "Gold"],
            [
                ("Freestyle Clinic", 8, 14, "any"),
                ("Butterfly Basics", 9, 15, "any"),
                ("Teen Stroke Squad", 12, 17, "any"),
            ],
        ),
        ProgramSpec(
            "Adult & Masters",
            "Never too late to swim.",
            ["Beginner", "Fitness"],
            [("Adult Beginner", 18, None, "any"), ("Masters Swim", 18, None, "any")],
        ),
    ],
    locations=[("Harbor Pool", "8 Marina Way"), ("Hillside Aquatic Center", "300 Ridge Road")],
    staff=[
        ("Coach Ines", "Aquatics director", "Former collegiate swimmer and lifeguard trainer."),
        ("Coach Dev", "Stroke coach", "Specialises in freestyle and butterfly technique."),
        ("Coach Lena", "Learn-to-swim lead", "Patient with the most nervous swimmers."),
        ("Coach Marco", "Masters coach", "Open-water and triathlon coach."),
        ("Coach Yuki", "Swim instructor", "Certified infant-aquatics instructor."),
    ],
    camps=[
        "Winter Swim Camp",
        "Spring Water Safety Camp",
        "Summer Swim Camp A",
        "Summer Swim Camp B",
        "Junior Lifeguard Camp",
    ],
    events=["Family Swim Night", "Pool Party", "Mini Swim Meet", "Water Safety Day"],
    announcements=[
        ("Winter term starts January 6", "Book now: groups are small.", "info", "everyone"),
        ("Harbor Pool maintenance", "Harbor Pool is closed Dec 14-15.", "critical", "everyone"),
        ("Swim meet sign-ups", "Dolphins and up: the mini meet is on Feb 8.", "info", "logged_in"),
    ],
    tuition_range=(9000, 18000),
    last_names=[
        "Okafor",
        "Lindqvist",
        "Moreau",
        "Yamamoto",
        "Costa",
        "Ahmed",
        "Walsh",
        "Petrov",
        "Reyes",
        "Fischer",
        "Chen",
        "Mendes",
        "Kowalski",
        "Byrne",
        "Singh",
        "Torres",
        "Larsen",
        "Haddad",
        "Martin",
        "Park",
    ],
)

SPECS = {"acme": ACME, "zen": ZEN}


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


@transaction.atomic
def seed_business(*, slug: str, password: str, family_emails: list[str]) -> bool:
    """Fill the current tenant schema with demo content. Returns False if it already had some."""
    spec = SPECS[slug]
    if Program.objects.exists():
        return False
    rng = random.Random(slug)  # noqa: S311 (demo data)
    today = timezone.localdate()
    term_start = _monday_on_or_after(today + timedelta(days=7))
    term = Term.objects.create(
        name="Winter term",
        start_date=term_start,
        end_date=term_start + timedelta(weeks=12) - timedelta(days=3),
    )
    locations = [
        Location.objects.create(name=n, address=a, city="Springfield") for n, a in spec.locations
    ]
    staff = []
    for i, (name, title, bio) in enumerate(spec.staff):
        profile = StaffProfile.objects.create(display_name=name, title=title, bio=bio, sort_order=i)
        for day in rng.sample(range(6), 2):
            AvailabilitySlot.objects.create(
                staff=profile,
                weekday=day,
                start_time=time(10),
                end_time=time(12),
                location=rng.choice(locations),
            )
        staff.append(profile)

    programs, all_levels, offerings = [], [], []
    lo, hi = spec.tuition_range
    for p_index, program_spec in enumerate(spec.programs):
        program = Program.objects.create(
            name=program_spec.name, description=program_spec.description, sort_order=p_index
        )
        programs.append(program)
        levels = [
            Level.objects.create(program=program, name=n, position=i + 1)
            for i, n in enumerate(program_spec.levels)
        ]
        all_levels.extend(levels)
        for c_index, (name, min_age, max_age, gender) in enumerate(program_spec.classes):
            # Each class runs in three or four weekly sections.
            for section in range(3 + (c_index % 2)):
                day = (c_index + section * 2 + p_index) % 6
                hour = [9, 10, 16, 17, 18][(c_index + section) % 5]
                capacity = rng.choice([6, 8, 10, 12])
                offering = Offering(
                    kind="class",
                    name=f"{name} ({['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][day]} {hour}:00)",
                    description=f"{program_spec.description} {name} for ages "
                    f"{min_age if min_age is not None else 'all'}"
                    f"{'-' + str(max_age) if max_age is not None else '+'}.",
                    program=program,
                    location=locations[(c_index + section) % len(locations)],
                    term=term,
                    capacity=capacity,
                    min_age=min_age,
                    max_age=max_age,
                    gender=gender,
                    start_date=term.start_date + timedelta(days=day),
                    end_date=term.end_date,
                    start_time=time(hour),
                    end_time=time(hour, 50),
                    weekdays=[day],
                    # The second program bills monthly (first month at checkout, then autopay).
                    tuition=rng.randrange(lo, hi, 500) // (3 if p_index == 1 else 1),
                    tuition_billing="monthly" if p_index == 1 else "term",
                    registration_fee=2500,
                )
                offering.save()
                offering.levels.set([levels[min(section, len(levels) - 1)]])
                offering.instructors.set([staff[(p_index + c_index + section) % len(staff)]])
                offerings.append(offering)

    summer = _monday_on_or_after(date(today.year + 1, 6, 15))
    for i, name in enumerate(spec.camps):
        start = summer + timedelta(weeks=i) if "Summer" in name or "Camp" in name else summer
        capacity = rng.choice([16, 20, 24])
        tuition = rng.randrange(22000, 32000, 1000)
        selection = ["whole", "day", "week"][i % 3]
        # Booked per day: a day costs about a quarter of the week; per week: the week's price.
        unit_price = {"whole": 0, "day": tuition // 400 * 100, "week": tuition}[selection]
        offering = Offering(
            kind="camp",
            name=name,
            description=f"{name}: a week of games, skills and friends.",
            program=programs[i % len(programs)],
            location=locations[i % len(locations)],
            capacity=capacity,
            min_age=5,
            max_age=12,
            start_date=start,
            end_date=start + timedelta(days=4),
            start_time=time(9),
            end_time=time(15),
            camp_selection=selection,
            camp_unit_price=unit_price,
            tuition=tuition,
        )
        offering.save()
        offering.instructors.set(rng.sample(staff, 2))
        offerings.append(offering)
    for i, name in enumerate(spec.events):
        day = term_start + timedelta(days=12 + i * 9)
        offering = Offering(
            kind="event",
            name=name,
            description=f"{name}. Everyone welcome.",
            program=programs[i % len(programs)],
            location=locations[0],
            capacity=30,
            start_date=day,
            end_date=day,
            start_time=time(18),
            end_time=time(21),
            tuition=rng.choice([1500, 2000, 2500]),
        )
        offering.save()
        offerings.append(offering)
    waiver = Policy.objects.create(
        title="Liability waiver",
        kind="waiver",
        body="I understand the risks of physical activity ...",
    )
    Policy.objects.create(
        title="Billing authorization",
        kind="billing_authorization",
        body="I authorize recurring tuition charges ...",
        required_at_signup=False,
    )
    for title, body, severity, audience in spec.announcements:
        Announcement.objects.create(
            title=title,
            body=body,
            severity=severity,
            audience=audience,
            kind="news" if audience == "logged_in" else "banner",
        )

    emails = list(family_emails) + [
        f"{name.lower()}.family@{slug}.example" for name in spec.last_names[len(family_emails) :]
    ]
    for index, last_name in enumerate(spec.last_names[:20]):
        email = emails[index]
        first = FIRST_NAMES_ADULTS[index % len(FIRST_NAMES_ADULTS)]
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, password=password, full_name=f"{first} {last_name}"
        )
        family = Family.objects.create(
            name=f"{last_name} family",
            city="Springfield",
            address_line1=f"{10 + index} Maple Street",
            country="US",
        )
        guardian = Guardian.objects.create(
            family=family,
            user=user,
            first_name=first,
            last_name=last_name,
            email=email,
            is_primary=True,
            phone=f"555-01{index:02d}",
        )
        EmergencyContact.objects.create(
            family=family,
            name=f"Grandparent {last_name}",
            phone=f"555-02{index:02d}",
            relationship="Grandparent",
        )
        for k in range(1 + index % 3):
            age = rng.randrange(2, 15)
            Student.objects.create(
                family=family,
                first_name=FIRST_NAMES_KIDS[(index + k * 7) % 20],
                last_name=last_name,
                date_of_birth=date(today.year - age, rng.randrange(1, 13), rng.randrange(1, 28)),
                gender=rng.choice(["female", "male", "female", "male", "unspecified"]),
                level=rng.choice(all_levels + [None] * 4),
                medical_notes=rng.choice(["", "", "", "Peanut allergy", "Asthma (inhaler in bag)"]),
            )
        PolicyAcceptance.objects.create(
            policy=waiver,
            version=waiver.version,
            family=family,
            guardian=guardian,
            signature=f"{first} {last_name}",
        )
    from portal.store.models import PunchPassProduct

    PunchPassProduct.objects.create(
        name="5-visit drop-in pass",
        visits=5,
        price=10000,
        valid_days=90,
        program=programs[0],
        description=f"Five drop-in visits to any {programs[0].name} class.",
    )
    PunchPassProduct.objects.create(
        name="10-visit family pass",
        visits=10,
        price=18000,
        valid_days=180,
        description="Ten drop-in visits for anyone in the family.",
    )
    _fill_seats(rng, offerings, today)
    return True


def _fill_seats(rng: random.Random, offerings: list[Offering], today: date) -> None:
    """Real enrollments (as the front desk would enter them) and waitlists, so availability
    is what the seat counters say: a few classes full with families waiting, some part-full.
    The first family (the printed demo login) is left free to enroll."""
    from portal.config.selectors import portal_settings_get
    from portal.enrollment.models import Enrollment, WaitlistEntry
    from portal.enrollment.services import recount

    portal = portal_settings_get()
    demo_family = Family.objects.order_by("pk").first()
    students = list(Student.objects.exclude(family=demo_family).select_related("family"))
    classes = [o for o in offerings if o.kind == "class"]
    full = rng.sample(classes, 4)
    partial = rng.sample([o for o in offerings if o not in full], 10)
    for offering in full + partial:
        wanted = offering.capacity if offering in full else rng.randrange(1, offering.capacity)
        pool = rng.sample(students, min(len(students), wanted + 4))
        for student in pool[:wanted]:
            Enrollment.objects.create(
                family=student.family,
                student=student,
                offering=offering,
                status=Enrollment.Status.ACTIVE,
                start_date=max(offering.start_date, today),
            )
        if offering in full:
            for priority, student in enumerate(pool[wanted : wanted + rng.randrange(1, 4)], 1):
                WaitlistEntry.objects.create(
                    offering=offering,
                    family=student.family,
                    student=student,
                    priority=priority * 10,
                )
        recount(offering, portal)
