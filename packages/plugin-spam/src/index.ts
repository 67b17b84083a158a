export {
  BayesClassifier,
  type Classification,
  type ClassifierOptions,
  chi2Q,
  messageDigest,
} from './bayes/classifier.js';
export { MemoryStore, type MemoryStoreOptions } from './bayes/memory-store.js';
export { type RedisClientLike, RedisStore, type RedisStoreOptions } from './bayes/redis-store.js';
export * from './bayes/store.js';
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
export * from './greylist/index.js';
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
export { Analysis, baseDomain, type HtmlLink, isIpHost, urlHost } from './rules/analysis.js';
export { builtinRules, GTUBE } from './rules/builtin.js';
export { defineRule, type Rule, type RuleResult } from './rules/rule.js';
export { type RuleConfig, type RuleHit, RuleSet } from './rules/rule-set.js';
export type { SaConfig, SaEnvironment, SaRuleSource, SaRuleType, SaSkip } from './sa/cf-parser.js';
export { emptyConfig, parseCf } from './sa/cf-parser.js';
export type { SaCompiledRule, SaMatcher, SaRuleInfo } from './sa/compile.js';
export {
  type EvalFn,
  parseEvalCall,
  SA_EVAL_ARGS,
  SA_EVALS,
  type SaEvalCall,
  type SaEvalContext,
} from './sa/eval.js';
export { type Expression, ExpressionError, parseExpression } from './sa/expression.js';
export type { HtmlSummary } from './sa/html.js';
export type { HtmlStats } from './sa/html-stats.js';
export { gateText, requiredLiterals } from './sa/literals.js';
export {
  installedSaRulesDir,
  loadSaRules,
  SA_DEFAULT_PLUGINS,
  SA_FEATURES,
  SA_VERSION,
  type SaLoadOptions,
} from './sa/load.js';
export { SaMessage } from './sa/message.js';
export type { SaHeader, SaMime, SaPart } from './sa/mime.js';
export { PerlRegexError, splitPerlMatch, type TranslatedRegex, translatePerlRegex } from './sa/perl-regex.js';
export {
  type SpamassassinRulesOptions,
  type SpamassassinRulesPlugin,
  spamassassinRuleSymbols,
  spamassassinRules,
} from './sa/plugin.js';
export type { SaRelay, SaRelays } from './sa/received.js';
export { type SaCheckOptions, type SaHit, type SaResult, SaRuleSet } from './sa/rule-set.js';
export {
  BAYES_BAND_EDGES,
  LEARNED_CLASSIFIER,
  type LearnScoresOptions,
  learnScores,
  type ScoringItem,
  type ThresholdPlacement,
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
