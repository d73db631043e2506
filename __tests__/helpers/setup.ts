/** Tests synthesize as the app does (main.ts): without a stack trace per token, unless CDKTF_TOKEN_STACK_TRACES=1. */
import { configureTokenStackTraces } from '../../constructs/core/token-stack-traces';

configureTokenStackTraces();
