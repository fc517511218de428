import { Module } from '@nestjs/common';
import { TokensController } from './tokens.controller.js';

/** API tokens. */
@Module({ controllers: [TokensController] })
export class TokensModule {}
