"""Wording, values, bands and thresholds copied from shared/CLINICAL.md.

The suite reads nothing outside the repository, so this copy is what the definition files
are checked against; it was taken from CLINICAL.md word for word."""

FREQUENCY = [
    (0, "Not at all"),
    (1, "Several days"),
    (2, "More than half the days"),
    (3, "Nearly every day"),
]
FREQUENCY_LOINC = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
DIFFICULTY = [
    (0, "Not difficult at all"),
    (1, "Somewhat difficult"),
    (2, "Very difficult"),
    (3, "Extremely difficult"),
]
PCL5_OPTIONS = [
    (0, "Not at all"),
    (1, "A little bit"),
    (2, "Moderately"),
    (3, "Quite a bit"),
    (4, "Extremely"),
]

REFERENCE = {
    "phq9": {
        "instructions": "Over the last 2 weeks, how often have you been bothered by any of the "
        "following problems?",
        "items": {
            "1": ("Little interest or pleasure in doing things", "44250-9"),
            "2": ("Feeling down, depressed, or hopeless", "44255-8"),
            "3": ("Trouble falling or staying asleep, or sleeping too much", "44259-0"),
            "4": ("Feeling tired or having little energy", "44254-1"),
            "5": ("Poor appetite or overeating", "44251-7"),
            "6": (
                "Feeling bad about yourself — or that you are a failure or have let "
                "yourself or your family down",
                "44258-2",
            ),
            "7": (
                "Trouble concentrating on things, such as reading the newspaper or "
                "watching television",
                "44252-5",
            ),
            "8": (
                "Moving or speaking so slowly that other people could have noticed? Or "
                "the opposite — being so fidgety or restless that you have been moving "
                "around a lot more than usual",
                "44253-3",
            ),
            "9": (
                "Thoughts that you would be better off dead or of hurting yourself in some way",
                "44260-8",
            ),
        },
        "optional": (
            "10",
            "If you checked off any problems, how difficult have these problems made it "
            "for you to do your work, take care of things at home, or get along with "
            "other people?",
        ),
        "range": (0, 27),
        "bands": [
            (0, 4, "minimal"),
            (5, 9, "mild"),
            (10, 14, "moderate"),
            (15, 19, "moderately_severe"),
            (20, 27, "severe"),
        ],
        "loinc": ("44249-1", "44261-6"),
        "response": 50,
        "remission_below": 5,
        "min_baseline": 10,
        "reliable_change": 6,
        "mcid": 5,
        "minimum_interval_days": 7,
    },
    "gad7": {
        "instructions": "Over the last 2 weeks, how often have you been bothered by the "
        "following problems?",
        "items": {
            "1": ("Feeling nervous, anxious, or on edge", "69725-0"),
            "2": ("Not being able to stop or control worrying", "68509-9"),
            "3": ("Worrying too much about different things", "69733-4"),
            "4": ("Trouble relaxing", "69734-2"),
            "5": ("Being so restless that it is hard to sit still", "69735-9"),
            "6": ("Becoming easily annoyed or irritable", "69689-8"),
            "7": ("Feeling afraid, as if something awful might happen", "69736-7"),
        },
        "optional": (
            "8",
            "If you checked any problems, how difficult have they made it for you to do "
            "your work, take care of things at home, or get along with other people?",
        ),
        "range": (0, 21),
        "bands": [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")],
        "loinc": ("69737-5", "70274-6"),
        "response": 50,
        "remission_below": 5,
        "min_baseline": 10,
        "reliable_change": 4,
        "mcid": 4,
        "minimum_interval_days": 7,
    },
    "pcl5": {
        "instructions": "Below is a list of problems that people sometimes have in response to a "
        "very stressful experience. Please read each problem and then select one "
        "of the options to indicate how much you have been bothered by that "
        "problem in the past week. The options include not at all, a little bit, "
        "moderately, quite a bit, and extremely.",
        "stem": "In the past week, how much were you bothered by:",
        "items": {
            "1": ("Repeated, disturbing, and unwanted memories of the stressful experience?", "B"),
            "2": ("Repeated, disturbing dreams of the stressful experience?", "B"),
            "3": (
                "Suddenly feeling or acting as if the stressful experience were actually "
                "happening again (as if you were actually back there reliving it)?",
                "B",
            ),
            "4": (
                "Feeling very upset when something reminded you of the stressful experience?",
                "B",
            ),
            "5": (
                "Having strong physical reactions when something reminded you of the "
                "stressful experience (for example, heart pounding, trouble breathing, "
                "sweating)?",
                "B",
            ),
            "6": (
                "Avoiding memories, thoughts, or feelings related to the stressful experience?",
                "C",
            ),
            "7": (
                "Avoiding external reminders of the stressful experience (for example, "
                "people, places, conversations, activities, objects, or situations)?",
                "C",
            ),
            "8": ("Trouble remembering important parts of the stressful experience?", "D"),
            "9": (
                "Having strong negative beliefs about yourself, other people, or the "
                "world (for example, having thoughts such as: I am bad, there is "
                "something seriously wrong with me, no one can be trusted, the world is "
                "completely dangerous)?",
                "D",
            ),
            "10": (
                "Blaming yourself or someone else for the stressful experience or what "
                "happened after it?",
                "D",
            ),
            "11": (
                "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
                "D",
            ),
            "12": ("Loss of interest in activities that you used to enjoy?", "D"),
            "13": ("Feeling distant or cut off from other people?", "D"),
            "14": (
                "Trouble experiencing positive feelings (for example, being unable to "
                "feel happiness or have loving feelings for people close to you)?",
                "D",
            ),
            "15": ("Irritable behavior, angry outbursts, or acting aggressively?", "E"),
            "16": ("Taking too many risks or doing things that could cause you harm?", "E"),
            "17": ('Being "superalert" or watchful or on guard?', "E"),
            "18": ("Feeling jumpy or easily startled?", "E"),
            "19": ("Having difficulty concentrating?", "E"),
            "20": ("Trouble falling or staying asleep?", "E"),
        },
        "range": (0, 80),
        "bands": [(0, 32, "below_cutoff"), (33, 80, "above_cutoff")],
        "loinc": ("101697-1", "101698-9"),
        "response_points": 10,
        "remission_below": 33,
        "min_baseline": 33,
        "reliable_change": 15,
        "mcid": 10,
        "minimum_interval_days": 7,
    },
    "pain": {
        "items": {
            "1": (
                "On a scale from 0 to 10, how would you rate your pain on average over "
                "the past 24 hours?",
                "72514-3",
            )
        },
        "range": (0, 10),
        "bands": [(0, 0, "none"), (1, 3, "mild"), (4, 6, "moderate"), (7, 10, "severe")],
        "anchors": {0: "No pain", 10: "Worst pain imaginable"},
        "loinc": (None, "72514-3"),
        "response": 30,
        "min_baseline": 4,
        "reliable_change": None,
        # Three most recent ratings, on three different days, each 2 points above baseline.
        "sustained_deterioration": {"ratings": 3, "distinct_days": 3, "points": 2},
        "mcid": 2,
        "minimum_interval_days": None,
    },
}
