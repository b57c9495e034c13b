import { actions } from '../actions'
import { restoreInit } from '../backups'
import { setDependencies } from '../dependencies'
import { setInterfaces } from '../interfaces'
import { sdk } from '../sdk'
import { versions } from '../versions'
import { setupTasks } from './tasks'

export const init = sdk.setupInit(restoreInit, versions, setInterfaces, setDependencies, actions, setupTasks)

export const uninit = sdk.setupUninit(versions)
