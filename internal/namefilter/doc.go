// Package namefilter selects names (consumer groups, topics, Lambda
// functions) by anchored allow and deny regular expressions: Config is one
// such pair of lists, as the groups.*, topics.* and lambda-esm.function-*
// options declare them, and Compile turns it into a predicate.
//
// It is a leaf helper, not part of the poll loop: the filters are applied
// by kafkaadmin (Config.IncludeGroup, IncludeTopic) and discovery/lambdaesm
// as internal/app and internal/appconfig wire them. It imports no package
// of this module.
package namefilter
