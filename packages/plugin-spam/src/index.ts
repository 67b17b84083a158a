export {
  BayesClassifier,
  type Classification,
  type ClassifierOptions,
  chi2Q,
  messageDigest,
} from './bayes/classifier.js';
export { MemoryStore, type MemoryStoreOptions } from './bayes/memory-store.js';
export { type RedisClientLike, RedisStore, type RedisStoreOptions } from './bayes/redis-store.js';
export {
  type BayesStore,
  dayOf,
  type ExpireOptions,
  type Label,
  type LearnOutcome,
  type StoreTotals,
  type Token,
  type TokenCounts,
} from './bayes/store.js';
export { type TokenizerOptions, tokenId, tokenIds, tokenize } from './bayes/tokenizer.js';
export { type TrainingItem, type TrainingProgress, type TrainOptions, train } from './bayes/trainer.js';
export {
  parseRspamdReply,
  type RspamdAddHeader,
  RspamdClient,
  type RspamdClientOptions,
  type RspamdEnvelope,
  type RspamdRemoveHeader,
  type RspamdResult,
  type RspamdSymbol,
} from './clients/rspamd-client.js';
export {
  parseAnswer as parseSpamdAnswer,
  parseSpamdReport,
  type RawAnswer as SpamdAnswer,
  SpamdClient,
  type SpamdClientOptions,
  type SpamdCommand,
  type SpamdResult,
  type SpamdRule,
  type TellOptions,
} from './clients/spamd-client.js';
export { collectFeatures } from './collect.js';
export { SpamError, type SpamErrorCode, spamErrorCodes } from './errors.js';
export { createFeatureExtractor, type FeatureExtractor } from './extract.js';
export type { MessageFeatures, PartInfo } from './features.js';
export {
  type BayesOptions,
  type BayesPlugin,
  type BayesSymbol,
  bayes,
  bayesSymbol,
} from './plugins/bayes-plugin.js';
export {
  type RspamdActionMapping,
  type RspamdOptions,
  type RspamdPlugin,
  rspamd,
} from './plugins/rspamd-plugin.js';
export { type SpamRulesOptions, type SpamRulesPlugin, spamRules } from './plugins/rules-plugin.js';
export {
  type SpamassassinOptions,
  type SpamassassinPlugin,
  spamassassin,
} from './plugins/spamassassin-plugin.js';
export { Analysis, addressDomain, baseDomain, type HtmlLink, isIpHost, urlHost } from './rules/analysis.js';
export { builtinRules, GTUBE } from './rules/builtin.js';
export { defineRule, type Rule, type RuleResult } from './rules/rule.js';
export { type RuleConfig, type RuleHit, RuleSet } from './rules/rule-set.js';
export {
  BAYES_BAND_EDGES,
  LEARNED_CLASSIFIER,
  type LearnScoresOptions,
  learnScores,
  type ScoringItem,
} from './scores/learn.js';
export {
  fitLogistic,
  type LogisticModel,
  type LogisticOptions,
  logit,
  type SparseRow,
} from './scores/logistic.js';
export {
  type BayesBand,
  bandScore,
  type LearnedScores,
  loadScores,
  parseScores,
  SCORES_FORMAT,
  type ScoredClassifier,
  type ScoresValidation,
  saveScores,
} from './scores/scores-file.js';
