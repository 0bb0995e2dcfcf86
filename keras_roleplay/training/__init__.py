"""Training recipes: optimizer schedules, time budgets, exact resumes, role
judges, role-play evaluation and pretraining, few-shot adaptation to a new
role (MAML), a responder from your own dialogue file, the captioner's and
the dual encoder's fits, reward tuning (self-critical sequence training of
the captioner, the responder's replies on a role judge's reward:
`rewards`; or on a discriminator's, retrained as the replies change:
`adversarial_reward`; DPO on ranked pairs of replies: `preference_tuning`;
role-play VQA answers on their content; each against as many seconds more
of teacher forcing: `reward_comparison`)."""

from keras_roleplay.training.adversarial_reward import (
    GENERATED,
    AdversarialRoleReward,
    train_role_discriminator,
)
from keras_roleplay.training.captioning import fit_captioner
from keras_roleplay.training.contrastive import (
    fit_dual_encoder,
    fit_multimodal_pretraining,
)
from keras_roleplay.training.dialogue_file_training import (
    DIALOGUE_FILE_SIZE,
    train_responder_on_dialogues,
)
from keras_roleplay.training.exact_backup import ExactBackupAndRestore
from keras_roleplay.training.few_shot import (
    RoleStart,
    adapt_to_role,
    meta_learn_role_start,
)
from keras_roleplay.training.preference_tuning import (
    PreferenceBatches,
    fit_reply_preferences,
    sample_preference_pairs,
)
from keras_roleplay.training.reply_reward_tuning import (
    ReplyRewardBatches,
    fit_reply_rewards,
)
from keras_roleplay.training.reward_comparison import (
    compare_answer_tuning,
    compare_caption_tuning,
)
from keras_roleplay.training.role_adaptation_comparison import (
    compare_role_adaptation,
    summarize_role_adaptation,
)
from keras_roleplay.training.role_play import (
    evaluate_replies,
    fit_responder,
    pretrain_responder,
    train_role_judge,
    warmup_cosine_adamw,
)
from keras_roleplay.training.role_slots import add_roles, only_roles_trainable
from keras_roleplay.training.self_critical import (
    SelfCriticalBatches,
    fit_self_critical,
)
from keras_roleplay.training.time_budget import TimeBudget, warmup_cosine_rate

__all__ = [
    "AdversarialRoleReward",
    "DIALOGUE_FILE_SIZE",
    "GENERATED",
    "ExactBackupAndRestore",
    "PreferenceBatches",
    "ReplyRewardBatches",
    "RoleStart",
    "SelfCriticalBatches",
    "adapt_to_role",
    "add_roles",
    "compare_answer_tuning",
    "compare_caption_tuning",
    "compare_role_adaptation",
    "meta_learn_role_start",
    "only_roles_trainable",
    "summarize_role_adaptation",
    "TimeBudget",
    "evaluate_replies",
    "fit_captioner",
    "fit_dual_encoder",
    "fit_multimodal_pretraining",
    "fit_reply_preferences",
    "fit_reply_rewards",
    "fit_responder",
    "fit_self_critical",
    "pretrain_responder",
    "sample_preference_pairs",
    "train_responder_on_dialogues",
    "train_role_discriminator",
    "train_role_judge",
    "warmup_cosine_adamw",
    "warmup_cosine_rate",
]
